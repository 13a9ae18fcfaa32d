package server

// Readiness is the /readyz check, for the tests of its cases that the
// composed server cannot reach (an engine that never loaded).
var Readiness = readiness
