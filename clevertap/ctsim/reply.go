package ctsim

import (
	"encoding/json"
	"net/http"
	"strconv"
)

// contentType is what CleverTap sends on every reply (recorded).
const contentType = "application/json;charset=utf-8"

// failBody is CleverTap's generic failure shape. Code is an int, or its
// text when Options.StringCodes is on.
type failBody struct {
	Status string `json:"status"`
	Error  string `json:"error"`
	Code   any    `json:"code"`
}

// stringCodes marks a reply whose fail bodies give "code" as a JSON string.
type stringCodes struct{ http.ResponseWriter }

// Unwrap lets http.ResponseController reach the connection (FaultReset).
func (s *stringCodes) Unwrap() http.ResponseWriter { return s.ResponseWriter }

// Error texts the simulator answers with.
const (
	msgAccountInvalid   = "Account ID is not valid"
	msgInvalidCreds     = "Invalid Credentials"
	msgTooMany          = "Too many concurrent requests"
	msgInternal         = "Internal Server Error"
	msgUnavailable      = "Service Unavailable"
	msgNotFound         = "Not found"
	msgMethodNotAllowed = "Method not allowed"
	msgProfileNotFound  = "Profile not found"
	msgIncorrectUsage   = "Incorrect Usage"
	msgInvalidCursor    = "Invalid cursor"
	msgNotReady         = "Request still in progress, please retry later"
)

// writeJSON writes v as the reply body with CleverTap's content type.
func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		// Only a programming error gets here: every reply is plain data.
		b = []byte(`{"status":"fail","error":"` + msgInternal + `","code":500}`)
		status = http.StatusInternalServerError
	}
	w.Header().Set("Content-Type", contentType)
	w.WriteHeader(status)
	w.Write(b)
}

// writeFail writes {"status":"fail","error":msg,"code":code} with HTTP
// status httpStatus.
func writeFail(w http.ResponseWriter, httpStatus, code int, msg string) {
	body := failBody{Status: "fail", Error: msg, Code: code}
	if _, ok := w.(*stringCodes); ok {
		body.Code = strconv.Itoa(code)
	}
	writeJSON(w, httpStatus, body)
}

// writeBadRequest is a validation failure answered with HTTP 400.
func writeBadRequest(w http.ResponseWriter, msg string) {
	writeFail(w, http.StatusBadRequest, 400, msg)
}

// writeFail200 is a logical failure answered with HTTP 200 and status fail.
func writeFail200(w http.ResponseWriter, code int, msg string) {
	writeFail(w, http.StatusOK, code, msg)
}

func writeTooMany(w http.ResponseWriter) {
	writeFail(w, http.StatusTooManyRequests, 429, msgTooMany)
}

type successBody struct {
	Status string `json:"status"`
}

func writeSuccess(w http.ResponseWriter) {
	writeJSON(w, http.StatusOK, successBody{Status: "success"})
}
