package bench

import (
	"syscall"
	"time"
)

// CPUTime returns the CPU time (user + system) this process has used so
// far, across all its threads. On a shared, noisy machine the CPU time a
// benchmark burns per operation is steadier than the wall time, which also
// counts the moments other processes held the cores; the GC's background
// work is included, as it should be.
func CPUTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
