package runner

import (
	"os"
	"runtime/debug"
	"strings"
)

// Provenance says where, from which code and by which command line runs
// are executed, as the store records it.
type Provenance struct {
	Host        string
	CodeVersion string // the VCS revision the binary was built from ("-dirty" if modified), else the module version
	Command     string
}

// CurrentProvenance is the provenance of this process.
func CurrentProvenance() Provenance {
	host, err := os.Hostname()
	if err != nil {
		host = "unknown"
	}
	return Provenance{Host: host, CodeVersion: codeVersion(), Command: strings.Join(os.Args, " ")}
}

// codeVersion reads the build information of the binary.
func codeVersion() string {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return "unknown"
	}
	var rev string
	modified := false
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			rev = s.Value
		case "vcs.modified":
			modified = s.Value == "true"
		}
	}
	if rev == "" {
		return bi.Main.Version
	}
	if modified {
		rev += "-dirty"
	}
	return rev
}
