package harness

// IsTiming exports isTiming to the external tests.
var IsTiming = isTiming
