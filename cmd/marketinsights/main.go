// Command marketinsights runs every role of Market Insights Pro: the embedded broker, topic admin,
// tools to read and write topics, and (as they land) processors, projectors, scrapers and the API.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}
