// Package ws registers the "ws" scheme.
package ws
