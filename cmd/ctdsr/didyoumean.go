package main

import (
	"flag"
	"strings"
)

// flagMessage is err, a flag set's parse error, as one line for people:
// an unknown flag is named as the help writes flags (--name), with the one
// meant when another is close.
func flagMessage(fs *flag.FlagSet, err error) string {
	const unknown = "flag provided but not defined: -"
	msg := err.Error()
	if !strings.HasPrefix(msg, unknown) {
		return msg
	}
	var names []string
	fs.VisitAll(func(f *flag.Flag) { names = append(names, f.Name) })
	got := strings.TrimPrefix(msg, unknown)
	return "unknown flag --" + got + didYouMean(got, names, "--")
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
