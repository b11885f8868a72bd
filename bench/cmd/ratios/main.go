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
	ns, cpu, bytes, allocs, cookie []float64
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
			case "cpu-ns/op":
				s.cpu = append(s.cpu, v)
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
	base, cpuBase := median(fl.ns), median(fl.cpu)
	fmt.Printf("| variant | wall ns/op | × floor (wall) | CPU ns/op | × floor (CPU) | B/op | allocs/op | cookie bytes |\n")
	fmt.Println("|---|---:|---:|---:|---:|---:|---:|---:|")
	for _, n := range order {
		s := byName[n]
		cookie := "—"
		if c := median(s.cookie); c > 0 {
			cookie = strconv.Itoa(int(c))
		}
		cpuRatio := 0.0
		if cpuBase > 0 {
			cpuRatio = median(s.cpu) / cpuBase
		}
		fmt.Printf("| %s | %.0f | %.2f× | %.0f | %.2f× | %.0f | %.0f | %s |\n", n, median(s.ns), median(s.ns)/base,
			median(s.cpu), cpuRatio, median(s.bytes), median(s.allocs), cookie)
	}
	fmt.Printf("\nMedians of %d runs each. Wall time is what go test reports; CPU time (getrusage, all threads,\n", len(fl.ns))
	fmt.Println("GC included) is steadier on a shared machine.")

	type r2 struct{ wall, cpu float64 }
	ratio := func(n string) (r2, bool) {
		s := byName[n]
		if s == nil || len(s.ns) == 0 {
			return r2{}, false
		}
		r := r2{wall: median(s.ns) / base}
		if cpuBase > 0 {
			r.cpu = median(s.cpu) / cpuBase
		}
		return r, true
	}
	verdict := func(ok bool) string {
		if ok {
			return "MET"
		}
		return "NOT MET"
	}
	fmt.Println()
	fmt.Println("Targets (same run):")
	target := func(label, name string, limit float64) {
		if r, ok := ratio(name); ok {
			fmt.Printf("- %s ≤ %.2f× floor: wall %.2f× — %s; CPU %.2f× — %s\n", label, limit, r.wall, verdict(r.wall <= limit), r.cpu, verdict(r.cpu <= limit))
		}
	}
	target("warm cookie", "authgate-warm", 0.30)
	target("cold cookie (first sight)", "authgate-cold", 1.50)
	overhead := func(label, name, ref string) {
		r, ok1 := ratio(name)
		sc, ok2 := ratio(ref)
		if ok1 && ok2 {
			w, c := (r.wall/sc.wall-1)*100, (r.cpu/sc.cpu-1)*100
			fmt.Printf("- %s ≤ +10%%: wall %+.1f%% — %s; CPU %+.1f%% — %s\n", label, w, verdict(w <= 10), c, verdict(c <= 10))
		}
	}
	overhead("authgate's decode path over bare securecookie on the same token", "authgate-nocache", "securecookie-authgate-token")
	if s := byName["authgate-anonymous"]; s != nil {
		a := median(s.allocs)
		fmt.Printf("- anonymous request 0 allocs/op: %.0f — %s\n", a, verdict(a == 0))
	}
}
