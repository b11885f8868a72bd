// Command ratios reads `go test -bench` output on standard input and prints
// every variant of BenchmarkRequest as a ratio to the floor from the same
// run (medians over -count runs), with B/op, allocs/op and cookie bytes, as
// a Markdown table, followed by the targets, each met or not.
package main

import (
	"bufio"
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"
)

const floor = "floor-hmac-json"

type samples struct {
	ns, bytes, allocs, cookie []float64
}

func median(xs []float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

func main() {
	byName := map[string]*samples{}
	var order []string
	sc := bufio.NewScanner(os.Stdin)
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) < 4 || !strings.HasPrefix(f[0], "BenchmarkRequest/") {
			continue
		}
		name := strings.TrimPrefix(f[0], "BenchmarkRequest/")
		if i := strings.LastIndexByte(name, '-'); i > 0 {
			if _, err := strconv.Atoi(name[i+1:]); err == nil {
				name = name[:i] // the -GOMAXPROCS suffix
			}
		}
		s := byName[name]
		if s == nil {
			s = &samples{}
			byName[name] = s
			order = append(order, name)
		}
		for i := 2; i+1 < len(f); i += 2 {
			v, err := strconv.ParseFloat(f[i], 64)
			if err != nil {
				continue
			}
			switch f[i+1] {
			case "ns/op":
				s.ns = append(s.ns, v)
			case "B/op":
				s.bytes = append(s.bytes, v)
			case "allocs/op":
				s.allocs = append(s.allocs, v)
			case "cookie-B":
				s.cookie = append(s.cookie, v)
			}
		}
	}
	fl := byName[floor]
	if fl == nil || len(fl.ns) == 0 {
		fmt.Fprintln(os.Stderr, "ratios: no floor result in the input")
		os.Exit(1)
	}
	base := median(fl.ns)
	fmt.Printf("| variant | ns/op (median of %d) | × floor | B/op | allocs/op | cookie bytes |\n", len(fl.ns))
	fmt.Println("|---|---:|---:|---:|---:|---:|")
	for _, n := range order {
		s := byName[n]
		cookie := "—"
		if c := median(s.cookie); c > 0 {
			cookie = strconv.Itoa(int(c))
		}
		fmt.Printf("| %s | %.0f | %.2f× | %.0f | %.0f | %s |\n", n, median(s.ns), median(s.ns)/base, median(s.bytes), median(s.allocs), cookie)
	}

	ratio := func(n string) (float64, bool) {
		s := byName[n]
		if s == nil || len(s.ns) == 0 {
			return 0, false
		}
		return median(s.ns) / base, true
	}
	verdict := func(ok bool) string {
		if ok {
			return "MET"
		}
		return "NOT MET"
	}
	fmt.Println()
	fmt.Println("Targets (same run):")
	if r, ok := ratio("authgate-warm"); ok {
		fmt.Printf("- warm cookie ≤ 0.30× floor: %.2f× — %s\n", r, verdict(r <= 0.30))
	}
	if r, ok := ratio("authgate-cold"); ok {
		fmt.Printf("- cold cookie ≤ 1.50× floor: %.2f× — %s\n", r, verdict(r <= 1.50))
		if sc, ok := ratio("securecookie-json-aes"); ok {
			over := (r/sc - 1) * 100
			fmt.Printf("- cold cookie adds ≤ 10%% on top of bare securecookie: %+.1f%% — %s\n", over, verdict(over <= 10))
		}
	}
	if s := byName["authgate-anonymous"]; s != nil {
		a := median(s.allocs)
		fmt.Printf("- anonymous request 0 allocs/op: %.0f — %s\n", a, verdict(a == 0))
	}
}
