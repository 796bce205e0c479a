package sandbox

import (
	"os"
	"strings"
)

// hostResolvConf is the node's resolver configuration.
var hostResolvConf = "/etc/resolv.conf"

// hostResolver reads nameservers, search domains and options from the
// node's resolv.conf; a missing file gives nothing.
func hostResolver() (servers, searches, options []string) {
	data, err := os.ReadFile(hostResolvConf)
	if err != nil {
		return nil, nil, nil
	}
	return parseResolvConf(string(data))
}

func parseResolvConf(data string) (servers, searches, options []string) {
	for _, line := range strings.Split(data, "\n") {
		if i := strings.IndexAny(line, "#;"); i >= 0 {
			line = line[:i]
		}
		fields := strings.Fields(line)
		if len(fields) < 2 {
			continue
		}
		switch fields[0] {
		case "nameserver":
			servers = append(servers, fields[1])
		case "search", "domain":
			searches = fields[1:]
		case "options":
			options = append(options, fields[1:]...)
		}
	}
	return servers, searches, options
}
