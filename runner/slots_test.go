package runner

import "testing"

func TestWorkers(t *testing.T) {
	_, jobs := tinyJobs(t) // train.threads 0: all cores
	if n := DefaultWorkers(jobs, 16); n != 1 {
		t.Errorf("threads 0 on 16 cores: %d workers, want 1", n)
	}
	if n := workerThreads(&jobs[0], 16, 1); n != 16 {
		t.Errorf("threads 0, one worker on 16 cores: %d threads, want 16", n)
	}
	if n := workerThreads(&jobs[0], 16, 3); n != 5 {
		t.Errorf("threads 0, 3 workers on 16 cores: %d threads, want 5", n)
	}
	_, jobs = tinyJobs(t, "train.threads=3")
	if n := DefaultWorkers(jobs, 16); n != 5 {
		t.Errorf("threads 3 on 16 cores: %d workers, want 5", n)
	}
	if n := DefaultWorkers(jobs, 2); n != 1 {
		t.Errorf("threads 3 on 2 cores: %d workers, want 1", n)
	}
	if n := workerThreads(&jobs[0], 16, 5); n != 3 {
		t.Errorf("threads 3: %d threads, want 3", n)
	}
}
