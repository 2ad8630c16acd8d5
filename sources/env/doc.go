// Package env registers the "env" source scheme: a field bound with
// live:"env=NAME" takes its value from the environment variable NAME.
//
// Import it for its side effect (livebind's core already does):
//
//	import _ "github.com/livebind/livebind/sources/env"
//
// An unset variable is reported as missing; a variable set to the empty
// string is reported as present with empty data. The driver reads variables
// through the LookupEnv function livebind hands it, never through
// os.LookupEnv directly, so tests and users can supply their own environment.
//
// # Watching
//
// The environment has no change notifications, so the driver polls. One
// goroutine per Binding serves every env field, each at its own interval
// (poll=, default [DefaultPoll]), and reports a change of presence or value.
// The loop runs on the shared lifecycle of [sources.Watches].
//
// Polling only sees changes made inside this process: os.Setenv, os.Unsetenv,
// or whatever the LookupEnv given to livebind returns. The environment of a
// running process cannot be changed from outside it. In particular, variables
// injected from a Kubernetes ConfigMap or Secret (env, envFrom) only change
// when the pod restarts, whatever the ConfigMap does meanwhile.
//
// For values that rotate at run time, such as secrets, use the NAME_FILE
// convention instead: set NAME_FILE to the path of a file holding the value
// (for example a mounted Secret volume). livebind resolves NAME_FILE into a
// watched file source, which does see updates.
package env
