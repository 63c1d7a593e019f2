// Package fileinfo names what an input that is not a regular file is, for the readers that refuse
// them (snapshot, activity): a device or a named pipe would be read forever.
package fileinfo

import "io/fs"

// Kind names what a non-regular file is: "a named pipe", "a device", "a socket", …
func Kind(m fs.FileMode) string {
	switch {
	case m&fs.ModeNamedPipe != 0:
		return "a named pipe"
	case m&fs.ModeDevice != 0, m&fs.ModeCharDevice != 0:
		return "a device"
	case m&fs.ModeSocket != 0:
		return "a socket"
	case m&fs.ModeSymlink != 0:
		return "a link to something other than a file"
	}
	return "not a file"
}
