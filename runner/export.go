package runner

import (
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"time"

	"harness/store"
)

// Export formats, the values of Export's format.
const (
	FormatCSV  = "csv"
	FormatJSON = "json"
)

// A Row is one metric of one run, as Export writes it.
type Row struct {
	RunID      int64  `json:"run_id"`
	Experiment string `json:"experiment"`
	Run        string `json:"run"`
	Step       int64  `json:"step"`
	Key        string `json:"key"`
	Value      Float  `json:"value"` // NaN and infinities as "NaN", "+Inf", "-Inf"
	WallTime   string `json:"wall_time"`
}

// Export writes the metrics of the runs f selects to w, in run, step and
// key order: as CSV with a header line (the columns of Row), or as a JSON
// array of Rows. wall_time is RFC 3339 UTC.
func Export(w io.Writer, st *store.Store, f store.Filter, format string) error {
	var write func(Row) error
	var end func() error
	switch format {
	case FormatCSV:
		cw := csv.NewWriter(w)
		if err := cw.Write([]string{"run_id", "experiment", "run", "step", "key", "value", "wall_time"}); err != nil {
			return err
		}
		write = func(r Row) error {
			return cw.Write([]string{strconv.FormatInt(r.RunID, 10), r.Experiment, r.Run,
				strconv.FormatInt(r.Step, 10), r.Key, strconv.FormatFloat(float64(r.Value), 'g', -1, 64), r.WallTime})
		}
		end = func() error { cw.Flush(); return cw.Error() }
	case FormatJSON:
		sep := "[\n"
		write = func(r Row) error {
			b, err := json.Marshal(r)
			if err != nil {
				return err
			}
			_, err = fmt.Fprintf(w, "%s  %s", sep, b)
			sep = ",\n"
			return err
		}
		end = func() error {
			if sep == "[\n" {
				_, err := io.WriteString(w, "[]\n")
				return err
			}
			_, err := io.WriteString(w, "\n]\n")
			return err
		}
	default:
		return fmt.Errorf("export: format %q: want %s or %s", format, FormatCSV, FormatJSON)
	}
	runs, err := st.Runs(f)
	if err != nil {
		return err
	}
	for _, run := range runs {
		ms, err := st.Metrics(run.ID, "")
		if err != nil {
			return err
		}
		for _, m := range ms {
			r := Row{RunID: run.ID, Experiment: run.Experiment, Run: run.Name, Step: m.Step, Key: m.Key,
				Value: Float(m.Value), WallTime: m.WallTime.UTC().Format(time.RFC3339Nano)}
			if err := write(r); err != nil {
				return fmt.Errorf("export: %w", err)
			}
		}
	}
	if err := end(); err != nil {
		return fmt.Errorf("export: %w", err)
	}
	return nil
}
