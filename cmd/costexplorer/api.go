package main

import (
	"context"
	"errors"
)

func runAPI(ctx context.Context, m *Main, args []string) error {
	return errors.New("not built yet")
}
