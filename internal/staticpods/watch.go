package staticpods

import (
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"

	"go.uber.org/zap"
	"golang.org/x/sys/unix"
)

// The directory is watched with inotify directly rather than with fsnotify
// (the dependency chosen first), for three reasons. Whether a file is
// complete is told by IN_CLOSE_WRITE (its writer closed it), which fsnotify
// 1.10 does not expose. It must come in order with the IN_MODIFY events of
// the same file: a second inotify instance beside fsnotify's has a queue and
// a goroutine of its own, so a close could be seen before the writes that
// preceded it and the file held back until its cap. And a scan must first
// take in every event already queued, which needs the events read in the
// Source's goroutine; fsnotify reads them in one of its own. minikubelet
// runs on Linux only.

const (
	// dirEvents are the events watched on the manifest directory.
	// IN_ONLYDIR: a file where the directory should be is not watched (its
	// parent is, until the directory appears).
	dirEvents = unix.IN_CLOSE_WRITE | unix.IN_MOVED_TO | unix.IN_CREATE | unix.IN_DELETE | unix.IN_MOVED_FROM |
		unix.IN_MODIFY | unix.IN_ATTRIB | unix.IN_DELETE_SELF | unix.IN_MOVE_SELF | unix.IN_ONLYDIR
	// parentEvents are the events watched on the directory's parent, all
	// along: those that make the directory's name appear, go or name
	// something else (a symlink swapped for the directory says nothing to
	// the watch on what the symlink named).
	parentEvents = unix.IN_CREATE | unix.IN_MOVED_TO | unix.IN_DELETE | unix.IN_MOVED_FROM |
		unix.IN_DELETE_SELF | unix.IN_MOVE_SELF | unix.IN_ONLYDIR
	// watchBufferSize holds many events (16 bytes plus the name each) per read.
	watchBufferSize = 64 << 10
)

// fileChange is what an inotify event means to the Source.
type fileChange int

const (
	changeNone      fileChange = iota // nothing the Source reads
	changeWritten                     // content written (IN_MODIFY); the writer may still hold the file open
	changeCreated                     // a new name (IN_CREATE), not a directory
	changeClosed                      // closed after writing (IN_CLOSE_WRITE): its writer is done with it
	changeCompleted                   // renamed in or out, removed, or a directory created
	changeAttrib                      // mode, owner or times changed
	changeDir                         // the directory itself appeared, went, moved or changed: read it all again
	changeLost                        // the kernel's event queue overflowed: events were lost
)

// watchEvent is one inotify event as read from the kernel.
type watchEvent struct {
	wd   int32
	mask uint32
	name string // the file's name in the watched directory; "" for the directory itself
}

// dirWatch keeps an inotify watch on the directory, or on its parent while
// the directory does not exist so that its creation is noticed. Without
// inotify (it could not be set up, or reading it failed) the periodic rescan
// does all the work.
//
// Its methods belong to the goroutine running Source.Run, which is the only
// reader of the events: it reads them when told they are there, and also
// right before every scan, so that a scan never acts on stale knowledge (a
// file whose close is already queued is not taken for one still being
// written). A goroutine of its own only waits for events to be queued.
type dirWatch struct {
	dir, parent string
	log         *zap.Logger

	fd              int      // the inotify descriptor, non-blocking
	file            *os.File // the same descriptor in the runtime's poller, for waiting; nil when not watching
	dirWd, parentWd int32    // -1 when not watched
	buf             []byte

	ready  chan error    // the waiter says events are queued (nil), or waiting failed
	ack    chan struct{} // Run has read them: the waiter may wait again
	done   chan struct{} // closed to end the waiter
	exited chan struct{} // closed by the waiter when it returns
}

func newDirWatch(dir string, log *zap.Logger) *dirWatch {
	w := &dirWatch{dir: dir, parent: filepath.Dir(dir), log: log, fd: -1, dirWd: -1, parentWd: -1}
	fd, err := unix.InotifyInit1(unix.IN_CLOEXEC | unix.IN_NONBLOCK)
	if err != nil {
		log.Warn("Cannot watch the manifest directory; changes are seen at the periodic rescan only", zap.Error(fmt.Errorf("inotify_init1: %w", err)))
		return w
	}
	// A non-blocking descriptor goes to the runtime's poller: the waiter
	// parks there without a thread of its own or a busy loop, and Close
	// wakes it (close(2) would not wake a read(2) blocked on it).
	file := os.NewFile(uintptr(fd), "inotify")
	rc, err := file.SyscallConn()
	if err != nil {
		_ = file.Close()
		log.Warn("Cannot watch the manifest directory; changes are seen at the periodic rescan only", zap.Error(err))
		return w
	}
	w.fd, w.file, w.buf = fd, file, make([]byte, watchBufferSize)
	w.ready, w.ack = make(chan error), make(chan struct{})
	w.done, w.exited = make(chan struct{}), make(chan struct{})
	go w.wait(rc)
	return w
}

// wait tells Run each time events are queued, then waits for Run to have
// read them before it looks again.
func (w *dirWatch) wait(rc syscall.RawConn) {
	defer close(w.exited)
	for {
		// Read parks in the poller each time the function says false.
		var pollErr error
		err := rc.Read(func(fd uintptr) bool {
			n, err := unix.Poll([]unix.PollFd{{Fd: int32(fd), Events: unix.POLLIN}}, 0)
			if err != nil && !errors.Is(err, unix.EINTR) {
				pollErr = err
				return true
			}
			return n > 0
		})
		if err == nil {
			err = pollErr
		}
		if err != nil {
			select {
			case <-w.done:
			case w.ready <- fmt.Errorf("wait for inotify events: %w", err):
			}
			return
		}
		select {
		case w.ready <- nil:
		case <-w.done:
			return
		}
		select {
		case <-w.ack:
		case <-w.done:
			return
		}
	}
}

// queued delivers the waiter's news; nil (blocks forever) when not watching.
func (w *dirWatch) queued() <-chan error {
	if w.file == nil {
		return nil
	}
	return w.ready
}

// acknowledge lets the waiter wait again after Run read what it announced.
func (w *dirWatch) acknowledge() {
	if w.file != nil {
		w.ack <- struct{}{}
	}
}

// read returns the events queued now, in order, without waiting. It reads
// a bounded amount, so that a flood of events cannot hold Run; the waiter
// tells about the rest.
func (w *dirWatch) read() ([]watchEvent, error) {
	if w.file == nil {
		return nil, nil
	}
	var evs []watchEvent
	for range 16 {
		n, err := unix.Read(w.fd, w.buf)
		switch {
		case errors.Is(err, unix.EAGAIN):
			return evs, nil
		case errors.Is(err, unix.EINTR):
			continue
		case err != nil:
			return evs, fmt.Errorf("read inotify events: %w", err)
		}
		more, err := parseEvents(w.buf[:n])
		evs = append(evs, more...)
		if err != nil {
			return evs, err
		}
	}
	return evs, nil
}

// parseEvents decodes struct inotify_event records.
func parseEvents(buf []byte) ([]watchEvent, error) {
	var evs []watchEvent
	for len(buf) > 0 {
		if len(buf) < unix.SizeofInotifyEvent {
			return evs, fmt.Errorf("short inotify event: %d bytes", len(buf))
		}
		n := int(binary.NativeEndian.Uint32(buf[12:16]))
		if len(buf) < unix.SizeofInotifyEvent+n {
			return evs, fmt.Errorf("inotify event name of %d bytes overruns the %d read", n, len(buf))
		}
		evs = append(evs, watchEvent{
			wd:   int32(binary.NativeEndian.Uint32(buf[0:4])),
			mask: binary.NativeEndian.Uint32(buf[4:8]),
			name: strings.TrimRight(string(buf[unix.SizeofInotifyEvent:unix.SizeofInotifyEvent+n]), "\x00"),
		})
		buf = buf[unix.SizeofInotifyEvent+n:]
	}
	return evs, nil
}

// stop gives up on inotify after reading or waiting failed.
func (w *dirWatch) stop(err error) {
	if w.file != nil {
		w.log.Warn("The file system watcher stopped; changes are seen at the periodic rescan only", zap.Error(err))
		w.close()
	}
}

// close ends the waiter, waits for it and releases the descriptor.
func (w *dirWatch) close() {
	if w.file == nil {
		return
	}
	close(w.done)
	_ = w.file.Close()
	<-w.exited
	w.file, w.fd, w.dirWd, w.parentWd = nil, -1, -1, -1
}

// ensure is called before every scan, so that nothing that happens after
// the scan goes unnoticed. Adding a watch again is cheap and returns the
// same descriptor while the path names the same directory; a new one means
// the directory was replaced, and the old watch goes. The parent is
// watched first and all along, so that the path being replaced is noticed
// whatever it named.
func (w *dirWatch) ensure() {
	if w.file == nil {
		return
	}
	if w.parentWd < 0 && w.parent != w.dir {
		wd, err := unix.InotifyAddWatch(w.fd, w.parent, parentEvents)
		if err != nil {
			w.log.Debug("Cannot watch the parent of the manifest directory; a replaced directory is seen at the periodic rescan", zap.Error(err))
		} else {
			w.parentWd = int32(wd)
		}
	}
	if err := w.addDir(); err != nil && !errors.Is(err, unix.ENOENT) {
		w.log.Debug("Cannot watch the manifest directory", zap.Error(err))
	}
}

func (w *dirWatch) addDir() error {
	wd, err := unix.InotifyAddWatch(w.fd, w.dir, dirEvents)
	if err != nil {
		w.forgetDir()
		return err
	}
	if int32(wd) != w.dirWd {
		w.forgetDir()
		w.dirWd = int32(wd)
		w.log.Debug("Watching the manifest directory")
	}
	return nil
}

// forgetDir drops the directory's watch, which may follow a directory
// moved elsewhere. The kernel has already dropped it when the directory
// was removed; the error then says so and means nothing.
func (w *dirWatch) forgetDir() {
	if w.dirWd >= 0 {
		_, _ = unix.InotifyRmWatch(w.fd, uint32(w.dirWd))
		w.dirWd = -1
	}
}

func (w *dirWatch) dropParent() {
	if w.parentWd >= 0 {
		_, _ = unix.InotifyRmWatch(w.fd, uint32(w.parentWd))
		w.parentWd = -1
	}
}

// interpret says what an event means, and for which file name in the
// directory. An event that says the directory is gone or moved drops its
// watch, so that the next ensure watches whatever the path names then.
func (w *dirWatch) interpret(ev watchEvent) (string, fileChange) {
	switch {
	case ev.mask&unix.IN_Q_OVERFLOW != 0:
		return "", changeLost
	case w.parentWd >= 0 && ev.wd == w.parentWd:
		if ev.mask&(unix.IN_DELETE_SELF|unix.IN_MOVE_SELF|unix.IN_UNMOUNT|unix.IN_IGNORED) != 0 {
			w.dropParent()
			return "", changeDir
		}
		if ev.name == filepath.Base(w.dir) {
			return "", changeDir
		}
		return "", changeNone
	case w.dirWd < 0 || ev.wd != w.dirWd:
		return "", changeNone // from a watch dropped since
	case ev.mask&(unix.IN_DELETE_SELF|unix.IN_MOVE_SELF|unix.IN_UNMOUNT|unix.IN_IGNORED) != 0:
		w.forgetDir()
		return "", changeDir
	case ev.name == "":
		return "", changeDir
	case ev.mask&unix.IN_MODIFY != 0:
		return ev.name, changeWritten
	case ev.mask&unix.IN_CREATE != 0 && ev.mask&unix.IN_ISDIR == 0:
		return ev.name, changeCreated
	case ev.mask&unix.IN_ATTRIB != 0:
		return ev.name, changeAttrib
	case ev.mask&unix.IN_CLOSE_WRITE != 0 && ev.mask&unix.IN_ISDIR == 0:
		return ev.name, changeClosed
	default:
		return ev.name, changeCompleted
	}
}

// createdForWriting tells whether a name that just appeared is a new file
// its creator holds open for writing (open with O_CREAT): a regular file
// with a single link. A symlink, a hard link to an existing file or a FIFO
// gets no close event to wait for.
func createdForWriting(p string) bool {
	var st unix.Stat_t
	if err := unix.Lstat(p, &st); err != nil {
		return false
	}
	return st.Mode&unix.S_IFMT == unix.S_IFREG && st.Nlink == 1
}
