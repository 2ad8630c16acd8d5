package sources

// OpenClient returns a [Scheme].Open for a driver of a remote service
// whose source config is of type C, or a bare client of type K that
// withClient turns into a C (see [ClientConfig]). It decodes the value the
// user handed livebind.WithSourceConfig and calls open with it; a value of
// another type is Open's error.
func OpenClient[C, K any](scheme string, withClient func(K) C, open func(Config, C) (Driver, error)) func(Config) (Driver, error) {
	return func(cfg Config) (Driver, error) {
		c, err := ClientConfig(scheme, cfg.Value, withClient)
		if err != nil {
			return nil, err
		}
		return open(cfg, c)
	}
}
