package store

import "fmt"

// ExperimentNames returns, sorted, the names of the experiments the store
// knows: those recorded with PutExperiment and those its runs name.
func (s *Store) ExperimentNames() ([]string, error) {
	rows, err := s.db.Query(`SELECT name FROM experiments UNION SELECT experiment FROM runs ORDER BY 1`)
	if err != nil {
		return nil, fmt.Errorf("store: list experiments: %w", err)
	}
	defer rows.Close()
	var names []string
	for rows.Next() {
		var n string
		if err := rows.Scan(&n); err != nil {
			return nil, fmt.Errorf("store: list experiments: %w", err)
		}
		names = append(names, n)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: list experiments: %w", err)
	}
	return names, nil
}
