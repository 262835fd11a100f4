package main

import (
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/marketinsightspro/marketinsights/scraper/parse"
)

type parseCmd struct {
	Kind        string `arg:"" enum:"search,product" help:"What the page is: search or product."`
	File        string `arg:"" placeholder:"FILE.html" help:"HTML file to read; - reads standard input."`
	Marketplace string `placeholder:"DOMAIN" help:"Marketplace (amazon.com, amazon.de ...) when the page does not say."`
	URL         string `placeholder:"URL" help:"Address the page was fetched from, to resolve relative links."`
}

// errBlocked makes `parse` exit non-zero on a robot-check page, after printing what it read.
var errBlocked = errors.New("the page is a robot check: the marketplace blocked the request")

func (c *parseCmd) Run(e *env) error {
	var in io.Reader = e.stdin
	if c.File != "-" {
		f, err := os.Open(c.File)
		if err != nil {
			return usageError{fmt.Errorf("open page: %w", err)}
		}
		defer f.Close()
		in = f
	}
	p, err := parse.Read(c.Kind, in, parse.Options{Marketplace: c.Marketplace, BaseURL: c.URL})
	if err != nil {
		return fmt.Errorf("parse %s page %s: %w", c.Kind, c.File, err)
	}
	if _, err := e.stdout.Write(parse.Render(p)); err != nil {
		return err
	}
	switch v := p.(type) {
	case *parse.SearchPage:
		if v.Blocked {
			return errBlocked
		}
	case *parse.ProductPage:
		if v.Blocked {
			return errBlocked
		}
	}
	return nil
}
