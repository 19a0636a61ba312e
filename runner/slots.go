package runner

// DefaultWorkers is the number of CPU slots the runs fit on cores: as many
// runs at once as the cores hold for the most demanding run's
// train.threads (0 meaning all cores), at least one.
func DefaultWorkers(jobs []Job, cores int) int {
	most := 1
	for i := range jobs {
		t := jobs[i].Run.Spec.Train.Threads
		if t == 0 {
			t = cores
		}
		most = max(most, t)
	}
	return max(1, cores/most)
}

// workerThreads is the number of threads a run's worker uses in one of
// workers CPU slots: the run's train.threads, or else its share of the
// cores.
func workerThreads(j *Job, cores, workers int) int {
	if t := j.Run.Spec.Train.Threads; t > 0 {
		return t
	}
	return max(1, cores/workers)
}
