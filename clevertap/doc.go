// Package clevertap is a typed client for the parts of CleverTap's server
// API (v1) that data-subject requests need: one profile by email, identity or
// objectId (GET /1/profile.json), event exports through cursors
// (/1/events.json) and profile deletion (POST /1/delete/profiles.json).
//
// It imports only the standard library and knows nothing of manifests,
// runs or ledgers.
//
// # Errors
//
// Every failure CleverTap reports, including HTTP 200 with
// "status":"fail", becomes an *APIError that matches one sentinel with
// errors.Is:
//
//	p, err := c.Profile(ctx, clevertap.ByEmail, email)
//	switch {
//	case errors.Is(err, clevertap.ErrNotFound):
//		// no such profile: every not-found shape CleverTap uses
//	case errors.Is(err, clevertap.ErrUnauthorized):
//		// 401/403: stop the run, retrying cannot help
//	case err != nil:
//		var api *clevertap.APIError
//		if errors.As(err, &api) {
//			log.Printf("CleverTap said HTTP %d code %d", api.HTTPStatus, api.Code)
//		}
//		var re *clevertap.RetryError
//		if errors.As(err, &re) {
//			log.Printf("gave up after %d attempts", re.Attempts)
//		}
//	}
//
// ErrNotFound comes only from Profile, and only for answers that say
// "fail" (or "success" without a record), so a wrong base URL answering a
// bare 404 is never mistaken for "no such person". ErrFilterRejected means
// an event export with EventQuery.FilterEmail was refused: run it again
// without the filter and filter records yourself.
// After the caller's context is cancelled, calls return an error wrapping
// the context's error. Transport failures (resets, timeouts) keep their
// cause for errors.Is / errors.As but never print the URL's query, which
// holds emails.
//
// # Retries
//
// A call is attempted at most RetryPolicy.MaxAttempts times. Retried: 429,
// 5xx except 501, "still in progress" (HTTP 202 or code 2) on cursor pages,
// connection resets and timeouts. Never retried: 401/403 and other 4xx, and
// the caller's own cancellation. Waits are exponential with full jitter,
// bounded by MaxDelay; a Retry-After header, should CleverTap ever send one,
// is honoured (up to 10 minutes). When more than one attempt was made the
// error is a *RetryError carrying the attempt count and wrapping the last
// error.
//
// # Quota
//
// CleverTap does not limit requests per minute; it limits concurrent
// in-flight requests per account and API group (3 for profiles, events and
// deletes) and answers 429 beyond that. Other systems may share the
// account, so a client uses only a share of the limit: at most
// K = max(1, floor(C × Share)) requests in flight per group for all its
// goroutines together (K = 2 at the defaults C = 3, Share = 0.75). Every
// attempt, retries included, takes a group slot and then waits on the
// optional shared Limiter; backoff sleeps hold no slot. A 429 lowers the
// group's cap by one (never below 1); ten answers in a row without one
// raise it by one again, up to K. Stats reports what happened, including
// the most requests seen in flight per group.
//
// # Secrets
//
// The passcode is a Passcode, which prints, logs and marshals as
// "[REDACTED]"; it travels only in the X-CleverTap-Passcode header. Logging
// (WithLogger) is at Debug level, one line per attempt with method, path,
// group, status, attempt and duration, never the query string.
package clevertap
