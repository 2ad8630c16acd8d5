package vault

// Credentials is the shape of a database secret (database/creds/<role> or
// database/static-creds/<role>) for a field that reads the whole secret:
//
//	DB vault.Credentials `live:"vault=database/creds/app"`
//
// Username and password come from one answer and are published in one
// generation, so whatever reads the field (an update= method that builds
// a connection pool) never sees a user with another user's password, as
// two fields tagged #username and #password could if read by different
// parts of the program at different times. Other keys of the secret
// (a static role's last_vault_rotation, rotation_period) are ignored.
//
// Its String and GoString show the username only, so printing it never
// shows the password.
type Credentials struct {
	Username string `json:"username"`
	Password string `json:"password"`
}

// String shows the username and hides the password.
func (c Credentials) String() string {
	if c.Password == "" {
		return "{" + c.Username + " (no password)}"
	}
	return "{" + c.Username + " [password hidden]}"
}

// GoString is String, for %#v.
func (c Credentials) GoString() string { return "vault.Credentials" + c.String() }
