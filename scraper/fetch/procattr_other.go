//go:build !linux

package fetch

import "github.com/chromedp/chromedp"

// browserProcess keeps chromedp's defaults outside Linux.
func browserProcess() []chromedp.ExecAllocatorOption { return nil }
