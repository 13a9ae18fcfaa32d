package main

import (
	"context"
	"errors"
)

func runImport(ctx context.Context, m *Main, args []string) error {
	return errors.New("not built yet")
}
