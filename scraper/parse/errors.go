package parse

import "errors"

var (
	// ErrNoPrice means the text holds no amount ("FREE", "Currently unavailable", "").
	ErrNoPrice = errors.New("no amount in price text")
	// ErrNoCurrency means the text names no currency and the marketplace does not imply one.
	ErrNoCurrency = errors.New("no currency in price text and no known marketplace")
	// ErrMalformedNumber means the digits and separators do not form a number any locale writes
	// ("1,2,3", "1.234,567.8") or the amount is too large to be a price.
	ErrMalformedNumber = errors.New("malformed number")
	// ErrUnrecognized means the page is neither the kind asked for, nor a robot check, nor a
	// "no results" page (an error page, an empty body, another site).
	ErrUnrecognized = errors.New("page not recognised")
)
