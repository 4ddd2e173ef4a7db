//go:build !unix

package queuestorage

import "os"

// lockDir only opens path where flock is missing: the directory must not be shared.
func lockDir(path string) (*os.File, error) {
	return os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o640)
}

func unlockDir(f *os.File) { _ = f.Close() }
