package passkey

import (
	"encoding/json"

	"github.com/authgate/authgate"
	"github.com/go-webauthn/webauthn/protocol"
	"github.com/go-webauthn/webauthn/webauthn"
)

// waUser is a user as go-webauthn sees one: the stable user handle, the
// names authenticators show, and the credentials of the ceremony.
type waUser struct {
	handle        []byte
	name, display string
	creds         []webauthn.Credential
}

func (u *waUser) WebAuthnID() []byte                         { return u.handle }
func (u *waUser) WebAuthnName() string                       { return u.name }
func (u *waUser) WebAuthnDisplayName() string                { return u.display }
func (u *waUser) WebAuthnCredentials() []webauthn.Credential { return u.creds }

// extra is what a Passkey's Data keeps of go-webauthn's credential record
// besides the adapter's own columns: the attestation's type and format
// (go-webauthn reads the format when it verifies an assertion), the latched
// user-verified flag, and the attachment.
type extra struct {
	AttestationType   string `json:"attestationType,omitempty"`
	AttestationFormat string `json:"attestationFormat,omitempty"`
	UserVerified      bool   `json:"userVerified,omitempty"`
	Attachment        string `json:"attachment,omitempty"`
}

// record is the adapter's row of a new credential of userID.
func record(userID, name string, c *webauthn.Credential) *authgate.Passkey {
	transports := make([]string, len(c.Transport))
	for i, t := range c.Transport {
		transports[i] = string(t)
	}
	data, _ := json.Marshal(extra{AttestationType: c.AttestationType, AttestationFormat: c.AttestationFormat,
		UserVerified: c.Flags.UserVerified, Attachment: string(c.Authenticator.Attachment)})
	return &authgate.Passkey{
		CredentialID: c.ID, UserID: userID, Name: name, PublicKey: c.PublicKey,
		SignCount: c.Authenticator.SignCount, BackupEligible: c.Flags.BackupEligible, BackupState: c.Flags.BackupState,
		Transports: transports, AAGUID: c.Authenticator.AAGUID, Data: data,
	}
}

// credential is go-webauthn's record of a stored passkey. The clone
// warning starts false, so after validation it says whether this
// assertion's counter did not increase.
func credential(p *authgate.Passkey) webauthn.Credential {
	var x extra
	_ = json.Unmarshal(p.Data, &x) // absent or foreign data: no extras
	transports := make([]protocol.AuthenticatorTransport, len(p.Transports))
	for i, t := range p.Transports {
		transports[i] = protocol.AuthenticatorTransport(t)
	}
	return webauthn.Credential{
		ID: p.CredentialID, PublicKey: p.PublicKey,
		AttestationType: x.AttestationType, AttestationFormat: x.AttestationFormat,
		Transport: transports,
		Flags: webauthn.CredentialFlags{UserPresent: true, UserVerified: x.UserVerified,
			BackupEligible: p.BackupEligible, BackupState: p.BackupState},
		Authenticator: webauthn.Authenticator{AAGUID: p.AAGUID, SignCount: p.SignCount,
			Attachment: protocol.AuthenticatorAttachment(x.Attachment)},
	}
}

// used is the adapter's update of p after a sign-in that go-webauthn
// validated as c.
func used(p *authgate.Passkey, c *webauthn.Credential) *authgate.Passkey {
	var x extra
	_ = json.Unmarshal(p.Data, &x)
	x.UserVerified = c.Flags.UserVerified
	data, _ := json.Marshal(x)
	u := *p
	u.SignCount, u.BackupState, u.Data = c.Authenticator.SignCount, c.Flags.BackupState, data
	return &u
}
