package ctsim

import (
	"net"
	"net/http"
)

// InjectFault makes the nth request to group from now (1-based) get fault
// f, whatever FaultRate says. Requests are counted when they reach the
// group's endpoint with valid credentials, so for sequential calls the
// choice is deterministic. It panics on an unknown fault or group, or
// nth < 1: those are mistakes in the calling test.
func (s *Server) InjectFault(group string, nth int, f Fault) {
	if _, ok := defaultLimits[group]; !ok || !f.valid() || nth < 1 {
		panic("ctsim: InjectFault(" + group + ", " + string(f) + "): unknown group or fault, or nth < 1")
	}
	s.lim.inject(group, nth, f)
}

// inject applies fault f to an admitted request. It reports whether the
// request is finished; a slow fault that the client waits out is not.
func (s *Server) inject(w http.ResponseWriter, r *http.Request, f Fault) bool {
	switch f {
	case Fault500:
		writeFail(w, http.StatusInternalServerError, 500, msgInternal)
	case Fault503:
		writeFail(w, http.StatusServiceUnavailable, 503, msgUnavailable)
	case FaultReset:
		resetConn(w)
	case FaultSlow:
		return !sleepCtx(r, SlowFaultDuration)
	default:
		writeTooMany(w)
	}
	return true
}

// resetConn drops the connection without a reply: hijacked and closed with
// SO_LINGER 0 so the peer sees a reset. Without a Hijacker (HTTP/2, a
// recorder) it aborts the handler, which also drops the connection.
func resetConn(w http.ResponseWriter) {
	conn, _, err := http.NewResponseController(w).Hijack()
	if err != nil {
		panic(http.ErrAbortHandler)
	}
	if tcp, ok := conn.(*net.TCPConn); ok {
		tcp.SetLinger(0)
	}
	conn.Close()
}
