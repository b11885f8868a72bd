package totp

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"errors"
)

// Seeds at rest: AES-256-GCM under a key derived from the Auth's secrets
// for this purpose alone ([authgate.Auth.Keys]), with the user's id
// as associated data. The database holds only the sealed form, so a stolen
// copy (a backup, a dump, one row) holds no seed that makes a code; and a
// sealed seed moved to another user's row does not open. The first secret
// seals; each secret in turn opens, so putting a new secret first keeps
// every seed readable while the old secret stays listed. Seeds are sealed
// again with the first secret whenever their row is rewritten (confirming,
// regenerating recovery codes).

// sealPurpose names the key purpose; a new format gets a new one.
const sealPurpose = "totp seed v1"

// sealVersion is the first byte of a sealed seed.
const sealVersion = 1

// errSealed reports a sealed seed that no secret opens: tampered with,
// moved to another user, or sealed under a secret no longer in
// Config.Secrets.
var errSealed = errors.New("totp: the sealed seed does not open with any of the secrets")

// sealAD is the associated data of userID's seed.
func sealAD(userID string) []byte {
	return append([]byte("authgate totp seed v1\x00"), userID...)
}

func newGCM(key []byte) cipher.AEAD {
	b, err := aes.NewCipher(key)
	if err != nil {
		panic("totp: " + err.Error()) // keys are 32 bytes from HKDF
	}
	g, err := cipher.NewGCM(b)
	if err != nil {
		panic("totp: " + err.Error())
	}
	return g
}

// seal encrypts seed for userID under key: version, nonce, ciphertext.
func seal(key []byte, userID string, seed []byte) []byte {
	g := newGCM(key)
	out := make([]byte, 1+g.NonceSize(), 1+g.NonceSize()+len(seed)+g.Overhead())
	out[0] = sealVersion
	rand.Read(out[1:])
	return g.Seal(out, out[1:1+g.NonceSize()], seed, sealAD(userID))
}

// open decrypts userID's sealed seed with the first of keys that
// authenticates it.
func open(keys [][]byte, userID string, sealed []byte) ([]byte, error) {
	if len(sealed) < 1 || sealed[0] != sealVersion {
		return nil, errSealed
	}
	for _, k := range keys {
		g := newGCM(k)
		if len(sealed) < 1+g.NonceSize()+g.Overhead() {
			return nil, errSealed
		}
		seed, err := g.Open(nil, sealed[1:1+g.NonceSize()], sealed[1+g.NonceSize():], sealAD(userID))
		if err == nil {
			return seed, nil
		}
	}
	return nil, errSealed
}
