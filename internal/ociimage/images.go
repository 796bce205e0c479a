package ociimage

import "io/fs"

// PauseRef is the name under which minikubelet ships its pause image; the
// containerd config under deploy/ names it as the CRI's sandbox_image.
const PauseRef = "localhost/minikubelet/pause:1.0"

// BusyboxRef is the name of the busybox image built from the node's
// busybox-static, under the name manifests usually give it.
const BusyboxRef = "docker.io/library/busybox:1.35"

// pauseUser is the user the pause process runs as, as in the upstream
// pause image: it needs no privilege to hold namespaces and reap children.
const pauseUser = "65535:65535"

// Pause returns the pause image: the static binary built from cmd/pause as
// /pause, its entrypoint.
func Pause(pauseBinary []byte, ref string) Image {
	return Image{
		Ref:        ref,
		Files:      []File{{Path: "/pause", Mode: 0o755, Data: pauseBinary}},
		Entrypoint: []string{"/pause"},
		User:       pauseUser,
	}
}

// BusyboxApplets are the applets the busybox image links to /bin/busybox.
// The list is fixed, rather than read from the binary, so that the image
// only depends on the binary's bytes.
var BusyboxApplets = []string{
	"[", "[[", "ash", "awk", "base64", "basename", "cat", "chgrp", "chmod",
	"chown", "cmp", "cp", "cut", "date", "dd", "df", "diff", "dirname", "du",
	"echo", "egrep", "env", "expr", "false", "fgrep", "find", "free", "grep",
	"gunzip", "gzip", "head", "hexdump", "hostname", "httpd", "id", "ifconfig",
	"ip", "kill", "killall", "less", "ln", "ls", "md5sum", "mkdir", "mkfifo",
	"mktemp", "more", "mount", "mv", "nc", "netstat", "nproc", "nslookup",
	"pidof", "ping", "printf", "ps", "pwd", "readlink", "realpath", "rm",
	"rmdir", "route", "sed", "seq", "setsid", "sh", "sha256sum", "sleep",
	"sort", "stat", "sync", "tail", "tar", "tee", "test", "timeout", "top",
	"touch", "tr", "true", "umount", "uname", "uniq", "uptime", "usleep", "vi",
	"watch", "wc", "wget", "which", "whoami", "xargs", "yes", "zcat",
}

// busyboxPath is the PATH of the busybox image, the usual one of Linux
// distribution images.
const busyboxPath = "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

// Busybox returns a busybox image: busyboxBinary (a static busybox, such as
// Debian's busybox-static /bin/busybox) as /bin/busybox, a symlink per
// applet in BusyboxApplets, the users root and nobody, and the directories
// programs expect. Its command is sh.
func Busybox(busyboxBinary []byte, ref string) Image {
	files := []File{
		{Path: "/bin/busybox", Mode: 0o755, Data: busyboxBinary},
		{Path: "/etc", Dir: true},
		{Path: "/etc/passwd", Data: []byte("root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n")},
		{Path: "/etc/group", Data: []byte("root:x:0:\nnobody:x:65534:\n")},
		{Path: "/etc/hosts", Data: []byte("127.0.0.1\tlocalhost\n::1\tlocalhost\n")},
		{Path: "/root", Dir: true, Mode: 0o700},
		{Path: "/tmp", Dir: true, Mode: 0o777 | fs.ModeSticky},
		{Path: "/var/www", Dir: true},
		{Path: "/usr/bin", Dir: true},
		{Path: "/usr/sbin", Dir: true},
		{Path: "/sbin", Dir: true},
	}
	for _, applet := range BusyboxApplets {
		files = append(files, File{Path: "/bin/" + applet, Linkname: "busybox"})
	}
	return Image{
		Ref:   ref,
		Files: files,
		Env:   []string{busyboxPath},
		Cmd:   []string{"sh"},
	}
}
