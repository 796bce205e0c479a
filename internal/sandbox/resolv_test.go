package sandbox

import (
	"reflect"
	"testing"
)

func TestParseResolvConf(t *testing.T) {
	tests := []struct {
		name                       string
		data                       string
		servers, searches, options []string
	}{
		{name: "empty"},
		{
			name:     "nameservers, search and options",
			data:     "nameserver 10.0.0.2\nnameserver 10.0.0.3\nsearch a.example b.example\noptions ndots:2 timeout:1\n",
			servers:  []string{"10.0.0.2", "10.0.0.3"},
			searches: []string{"a.example", "b.example"},
			options:  []string{"ndots:2", "timeout:1"},
		},
		{
			name:    "comment lines and trailing comments",
			data:    "# generated\n; also a comment\nnameserver 10.0.0.2 # primary\nnameserver 10.0.0.3;secondary\n#nameserver 10.0.0.9\n",
			servers: []string{"10.0.0.2", "10.0.0.3"},
		},
		{
			name:     "domain sets the search list",
			data:     "domain corp.example\nnameserver 10.0.0.2\n",
			servers:  []string{"10.0.0.2"},
			searches: []string{"corp.example"},
		},
		{
			name:     "the last of search and domain wins",
			data:     "search a.example b.example\ndomain corp.example\n",
			searches: []string{"corp.example"},
		},
		{
			name:     "a later search replaces an earlier domain",
			data:     "domain corp.example\nsearch a.example\n",
			searches: []string{"a.example"},
		},
		{
			name:    "options lines add up",
			data:    "options ndots:2\noptions edns0 rotate\n",
			options: []string{"ndots:2", "edns0", "rotate"},
		},
		{
			name:    "tabs, blank lines, CRLF and keywords without values",
			data:    "\n\tnameserver\t10.0.0.2\r\nnameserver\nsearch\noptions\nsortlist 10.0.0.0/8\n",
			servers: []string{"10.0.0.2"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			servers, searches, options := parseResolvConf(tt.data)
			if !reflect.DeepEqual(servers, tt.servers) || !reflect.DeepEqual(searches, tt.searches) || !reflect.DeepEqual(options, tt.options) {
				t.Fatalf("parseResolvConf(%q) = servers %q searches %q options %q, want servers %q searches %q options %q",
					tt.data, servers, searches, options, tt.servers, tt.searches, tt.options)
			}
		})
	}
}
