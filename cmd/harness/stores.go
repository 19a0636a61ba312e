package main

import (
	"errors"
	"fmt"
	"io/fs"
	"slices"
	"strings"

	"harness/store"
)

// openStore opens the store at path for writing, as harness run does.
// Every error of the open is invalid input (exit status 2), as it is for
// readStore: a store that cannot be used as given, whether missing, in a
// directory that does not exist, another program's database or of a
// newer schema, gives one status whichever command meets it.
func openStore(path string) (*store.Store, error) {
	st, err := store.Open(path)
	if err != nil {
		return nil, invalid(err)
	}
	return st, nil
}

// readStore opens the store at path read-only, as ls, show, compare,
// export and report do; it reads a store on read-only media too.
func readStore(path string) (*store.Store, error) {
	st, err := store.OpenReadOnly(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, invalid(fmt.Errorf("%w (give its path with --db)", err))
	}
	if err != nil {
		return nil, invalid(err)
	}
	return st, nil
}

// checkExperiments reports invalid input for the first of the named
// experiments that the store st at path does not know; "" names none.
func checkExperiments(st *store.Store, path string, experiments ...string) error {
	var known []string
	for i, name := range experiments {
		if name == "" {
			continue
		}
		if known == nil {
			var err error
			if known, err = st.ExperimentNames(); err != nil {
				return failed(err)
			}
		}
		if !slices.Contains(known, name) {
			has := "none"
			if len(known) > 0 {
				has = strings.Join(known, ", ")
			}
			return invalid(fmt.Errorf("no experiment %s in %s (it has: %s)", experiments[i], path, has))
		}
	}
	return nil
}
