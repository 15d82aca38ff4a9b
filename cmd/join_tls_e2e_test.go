package cmd

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/callctl/callctl/pkg/sdk/sdktest"
)

// writeTestPKI writes a CA certificate and a server certificate for
// 127.0.0.1 signed by it; it returns the file paths.
func writeTestPKI(t *testing.T) (caFile, certFile, keyFile string) {
	t.Helper()
	dir := t.TempDir()
	caKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	caTmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "callctl test CA"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign,
	}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	ca, _ := x509.ParseCertificate(caDER)
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: "127.0.0.1"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)}, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		KeyUsage: x509.KeyUsageDigitalSignature,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca, &key.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, _ := x509.MarshalPKCS8PrivateKey(key)
	write := func(name, typ string, b []byte) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: b}), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	return write("ca.pem", "CERTIFICATE", caDER), write("cert.pem", "CERTIFICATE", der), write("key.pem", "PRIVATE KEY", keyDER)
}

// wss:// verifies certificates by default; --ca trusts a private CA and
// --insecure accepts the server's self-signed certificate.
func TestJoinTLS(t *testing.T) {
	caFile, certFile, keyFile := writeTestPKI(t)
	srv := sdktest.StartServer(t, sdktest.ServerOptions{Args: []string{"--cert", certFile, "--key", keyFile}})
	if !strings.HasPrefix(srv.URL, "wss://") {
		t.Fatalf("server URL %s: want wss://", srv.URL)
	}
	base := []string{"join", "--server", srv.URL, "--room", "tls", "--video", "none", "--audio", "none"}

	p := start(t, append(base, "--user", "untrusted")...)
	if code := p.wait(15 * time.Second); code != ExitConnect {
		t.Fatalf("unknown CA: exit %d, want %d; stderr:\n%s", code, ExitConnect, p.stderr.String())
	}
	if errs := p.find("error", nil); len(errs) != 1 || !strings.Contains(errs[0]["message"].(string), "certificate") {
		t.Errorf("want a certificate error event, got %v", errs)
	}

	p = start(t, append(base, "--user", "ca", "--ca", caFile, "--duration", "1s")...)
	if code := p.wait(15 * time.Second); code != ExitOK {
		t.Fatalf("--ca: exit %d; stderr:\n%s", code, p.stderr.String())
	}
	if len(p.find("joined", nil)) != 1 {
		t.Error("--ca: not joined")
	}

	self := sdktest.StartServer(t, sdktest.ServerOptions{TLS: true})
	p = start(t, "join", "--server", self.URL, "--room", "tls", "--user", "insecure", "--insecure", "--duration", "1s",
		"--video", "none", "--audio", "none")
	if code := p.wait(15 * time.Second); code != ExitOK || len(p.find("joined", nil)) != 1 {
		t.Fatalf("--insecure: exit %d; stderr:\n%s", code, p.stderr.String())
	}

	bad := start(t, append(base, "--user", "badca", "--ca", filepath.Join(t.TempDir(), "missing.pem"))...)
	if code := bad.wait(10 * time.Second); code != ExitUsage {
		t.Errorf("missing --ca file: exit %d, want %d", code, ExitUsage)
	}
}
