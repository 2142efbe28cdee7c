package datasets

import (
	"errors"
	"testing"
)

// LoadOnce loads a dataset once per directory: a second call gets the
// first call's result (here, with no data, its very error).
func TestLoadOnce(t *testing.T) {
	dir := t.TempDir()
	_, err1 := LoadOnce(dir, "cifar10")
	_, err2 := LoadOnce(dir, "cifar10")
	if !errors.Is(err1, ErrNotFound) || err1 != err2 {
		t.Errorf("errors %v and %v, want the same ErrNotFound", err1, err2)
	}
	if _, err3 := LoadOnce(t.TempDir(), "cifar10"); err3 == err1 {
		t.Error("another directory shares the first one's load")
	}
}
