package ctsim

import "maps"

// Stats counts what the simulator saw since it started or since ResetStats.
// Maps are keyed by API group ("profile", "profiles", "events", "delete",
// "demerge"), except Faults, which is keyed by fault kind ("500", "reset"…).
type Stats struct {
	Calls       map[string]int64 `json:"calls"`         // authenticated requests to an existing endpoint
	TooMany     map[string]int64 `json:"too_many"`      // answered 429 by the limits (not by injected faults)
	Faults      map[string]int64 `json:"faults"`        // faults injected, by kind
	MaxInFlight map[string]int   `json:"max_in_flight"` // most requests of the group in flight at once
	DeleteIDs   int64            `json:"delete_ids"`    // ids received by valid delete calls
	DeleteCalls int64            `json:"delete_calls"`  // valid delete calls
}

func newStats() Stats {
	return Stats{Calls: map[string]int64{}, TooMany: map[string]int64{}, Faults: map[string]int64{}, MaxInFlight: map[string]int{}}
}

func (s Stats) clone() Stats {
	s.Calls = maps.Clone(s.Calls)
	s.TooMany = maps.Clone(s.TooMany)
	s.Faults = maps.Clone(s.Faults)
	s.MaxInFlight = maps.Clone(s.MaxInFlight)
	return s
}

// Stats returns a copy of the statistics.
func (s *Server) Stats() Stats { return s.lim.snapshot() }

// ResetStats zeroes the statistics. MaxInFlight restarts from the requests
// in flight right now.
func (s *Server) ResetStats() { s.lim.reset() }
