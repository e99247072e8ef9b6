package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/flowlogs2netflow/flowlogs2netflow/shared/chunk"
	"github.com/flowlogs2netflow/flowlogs2netflow/shared/pipeline"
)

// inputSet is what the INPUT arguments name: the objects to read, the
// entries that failed before reading (an unreadable directory, a broken
// symbolic link, an S3 prefix that cannot be listed) and the entries
// deliberately not read (hidden files, second paths to one file, symbolic
// link loops).
type inputSet struct {
	inputs  []pipeline.Input
	failed  []pipeline.Failure
	ignored []pipeline.Ignored
	// seen maps every file and directory read (device and inode) to the
	// path it was first reached by.
	seen map[fileID]string
	s3   *s3Inputs
}

type fileID struct{ dev, ino uint64 }

// maxDepth bounds the directory walk.
const maxDepth = 256

func (s *inputSet) fail(object string, err error) {
	s.failed = append(s.failed, pipeline.Failure{Object: object, Error: err.Error()})
}

func (s *inputSet) ignore(object, reason string) {
	s.ignored = append(s.ignored, pipeline.Ignored{Object: object, Reason: reason})
}

// firstPath notes a file or directory by device and inode and reports the
// path it was first reached by, if it was.
func (s *inputSet) firstPath(path string, st fs.FileInfo) (string, bool) {
	id, ok := idOf(st)
	if !ok {
		return "", false
	}
	if prev, dup := s.seen[id]; dup {
		return prev, true
	}
	s.seen[id] = path
	return "", false
}

// expandInputs turns the INPUT arguments into objects. The error is for
// arguments that are wrong as written (a path that does not exist, a
// malformed s3:// URI): a usage error, reported before anything is sent.
// Everything that goes wrong while listing is a failed entry of the set:
// the other inputs are still read, and the run exits 1.
func expandInputs(ctx context.Context, args []string, stdin io.Reader) (*inputSet, error) {
	set := &inputSet{seen: map[fileID]string{}, s3: &s3Inputs{}}
	var errs []error
	for _, a := range args {
		switch {
		case a == "-":
			set.inputs = append(set.inputs, pipeline.Input{Name: "stdin", Open: func() (io.ReadCloser, error) { return io.NopCloser(stdin), nil }})
		case strings.HasPrefix(a, "s3://"):
			if err := set.s3.add(ctx, set, a); err != nil {
				errs = append(errs, err)
			}
		default:
			st, err := os.Stat(a)
			if errors.Is(err, fs.ErrNotExist) {
				if lst, lerr := os.Lstat(a); lerr == nil && lst.Mode()&fs.ModeSymlink != 0 {
					err = fmt.Errorf("broken symbolic link: %w", err)
				}
				errs = append(errs, fmt.Errorf("input %s: %w", a, err))
				continue
			}
			if err != nil {
				set.fail(a, err)
				continue
			}
			switch mode := st.Mode(); {
			case mode.IsRegular():
				if prev, dup := set.firstPath(a, st); dup {
					set.ignore(a, "the same file as "+prev+" (read once)")
					continue
				}
				set.inputs = append(set.inputs, fileInput(a))
			case mode.IsDir():
				set.dir(a)
			case mode&(fs.ModeNamedPipe|fs.ModeCharDevice) != 0:
				// A pipe or a terminal named on the command line (<(zcat
				// ...), /dev/stdin) is read as a stream, like "-".
				set.inputs = append(set.inputs, streamInput(a))
			default:
				set.fail(a, fmt.Errorf("not a regular file, directory or pipe (%s)", fileKind(mode)))
			}
		}
	}
	return set, errors.Join(errs...)
}

// dir adds every file below root in name order: symbolic links are
// followed, to files and to directories; a link back to a directory being
// read (a loop) and a second path to a file or directory already read are
// ignored and listed; hidden entries (names starting with ".") are ignored
// and listed; anything else that cannot be read is a failed entry.
func (s *inputSet) dir(root string) {
	st, err := os.Stat(root)
	if err != nil {
		s.fail(root, err)
		return
	}
	if prev, dup := s.firstPath(root, st); dup {
		s.ignore(root, "the same directory as "+prev+" (read once)")
		return
	}
	before, failedBefore, ignoredBefore := len(s.inputs), len(s.failed), len(s.ignored)
	hidden := 0
	var files []string
	var walk func(dir string, ancestors map[fileID]string)
	walk = func(dir string, ancestors map[fileID]string) {
		if len(ancestors) > maxDepth {
			// Only where files have no inode numbers can a loop get here.
			s.fail(dir, fmt.Errorf("more than %d directories deep (a symbolic link loop?): not read", maxDepth))
			return
		}
		entries, err := os.ReadDir(dir)
		if err != nil {
			s.fail(dir, fmt.Errorf("read directory: %w", err))
			// ReadDir returns the entries it read before the error.
		}
		for _, e := range entries {
			p := filepath.Join(dir, e.Name())
			if strings.HasPrefix(e.Name(), ".") {
				s.ignore(p, "hidden (name it as an INPUT to read it)")
				hidden++
				continue
			}
			st, err := os.Stat(p) // follows symbolic links
			if err != nil {
				if e.Type()&fs.ModeSymlink != 0 {
					err = fmt.Errorf("broken symbolic link: %w", err)
				}
				s.fail(p, err)
				continue
			}
			switch mode := st.Mode(); {
			case mode.IsRegular():
				if prev, dup := s.firstPath(p, st); dup {
					s.ignore(p, "the same file as "+prev+" (read once)")
					continue
				}
				files = append(files, p)
			case mode.IsDir():
				id, ok := idOf(st)
				if anc, loop := ancestors[id]; ok && loop {
					s.ignore(p, "a symbolic link loop back to "+anc+" (not followed)")
					continue
				}
				if prev, dup := s.firstPath(p, st); dup {
					s.ignore(p, "the same directory as "+prev+" (read once)")
					continue
				}
				sub := map[fileID]string{id: p}
				if !ok {
					sub = map[fileID]string{{ino: uint64(len(ancestors))}: p} // counts the depth
				}
				for k, v := range ancestors {
					sub[k] = v
				}
				walk(p, sub)
			default:
				s.fail(p, fmt.Errorf("not a regular file (%s): not read", fileKind(mode)))
			}
		}
	}
	rootID, _ := idOf(st)
	walk(root, map[fileID]string{rootID: root})
	sort.Strings(files)
	for _, f := range files {
		s.inputs = append(s.inputs, fileInput(f))
	}
	if len(s.inputs) == before && len(s.failed) == failedBefore && len(s.ignored)-ignoredBefore == hidden {
		// Nothing to read and nothing read elsewhere: most likely the
		// wrong directory.
		msg := "no files in directory"
		if hidden > 0 {
			msg = fmt.Sprintf("no files in directory (%d hidden entries ignored)", hidden)
		}
		s.fail(root, errors.New(msg))
	}
}

func fileKind(m fs.FileMode) string {
	switch {
	case m&fs.ModeNamedPipe != 0:
		return "named pipe"
	case m&fs.ModeSocket != 0:
		return "socket"
	case m&fs.ModeCharDevice != 0:
		return "character device"
	case m&fs.ModeDevice != 0:
		return "device"
	case m&fs.ModeIrregular != 0:
		return "irregular file"
	}
	return m.Type().String()
}

func fileInput(path string) pipeline.Input {
	return pipeline.Input{Name: path, Source: func() (chunk.Source, io.Closer, error) {
		f, err := chunk.OpenFile(path)
		if err != nil {
			return nil, nil, err
		}
		return f, f, nil
	}}
}

func streamInput(path string) pipeline.Input {
	return pipeline.Input{Name: path, Open: func() (io.ReadCloser, error) { return os.Open(path) }}
}
