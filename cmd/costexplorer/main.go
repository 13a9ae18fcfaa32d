// Command costexplorer is a self-hosted billing Cost Explorer that speaks the
// MongoDB Atlas Administration API v2 cost-explorer contract.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	os.Exit(NewMain(os.Stdin, os.Stdout, os.Stderr, os.Getenv).Run(ctx, os.Args[1:]))
}
