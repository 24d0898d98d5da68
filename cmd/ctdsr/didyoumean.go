package main

import (
	"flag"
	"strings"
)

// flagHint suggests the flag meant when err says an unknown one was given.
func flagHint(fs *flag.FlagSet, err error) string {
	const unknown = "flag provided but not defined: -"
	msg := err.Error()
	if !strings.HasPrefix(msg, unknown) {
		return ""
	}
	var names []string
	fs.VisitAll(func(f *flag.Flag) { names = append(names, f.Name) })
	return didYouMean(strings.TrimPrefix(msg, unknown), names, "--")
}

// didYouMean returns "; did you mean <prefix>X?" for the candidate closest
// to got, when one is close enough to be a typo, else "".
func didYouMean(got string, candidates []string, prefix string) string {
	got = strings.TrimLeft(got, "-")
	best, bestD := "", 3 // at most two edits away
	for _, c := range candidates {
		d := editDistance(got, c)
		if strings.HasPrefix(c, got) && len(got) >= 3 {
			d = min(d, 1)
		}
		if d < bestD {
			best, bestD = c, d
		}
	}
	if best == "" {
		return ""
	}
	return "; did you mean " + prefix + best + "?"
}

// editDistance is the Levenshtein distance of a and b.
func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}
