import DoctorModel

/// What a certificate, key or PSK failure is, in the `cause` field's words, with the commands that show
/// it and fix it. The classifier names the cause from NSS's error names and pluto's X509 wording;
/// `auth-failed` and `id-mismatch` findings carry it.
public enum CredentialCause: String, Sendable, CaseIterable {
    case certificateExpired = "certificate-expired"
    case certificateNotYetValid = "certificate-not-yet-valid"
    case certificateRevoked = "certificate-revoked"
    case unknownCA = "unknown-ca"
    case idNotInSAN = "id-not-in-san"
    case certNotInNSS = "cert-not-in-nss"
    case privateKeyMissing = "private-key-missing"
    case noPSK = "no-psk"

    /// The first cause the events name (file order).
    static func of(_ events: [IKEEvent]) -> CredentialCause? {
        events.lazy.compactMap { $0.details["cause"].flatMap(CredentialCause.init(rawValue:)) }.first
    }

    var title: String {
        switch self {
        case .certificateExpired: "A certificate has expired"
        case .certificateNotYetValid: "A certificate is not valid yet (clock or notBefore)"
        case .certificateRevoked: "A certificate is revoked (CRL/OCSP)"
        case .unknownCA: "The certificate's issuer (CA) is not trusted in the NSS database"
        case .idNotInSAN: "The ID is not in the certificate's subjectAltName"
        case .certNotInNSS: "The configured certificate is not in the NSS database"
        case .privateKeyMissing: "The private key of this end's certificate is not in the NSS database"
        case .noPSK: "No pre-shared key for this pair of IDs in ipsec.secrets"
        }
    }

    var why: String {
        switch self {
        case .certificateExpired:
            "NSS refused a certificate in the chain because its validity period has ended (or the checking end's clock is wrong)."
        case .certificateNotYetValid:
            "NSS refused a certificate whose validity starts in the future: the checking end's clock is behind, or the certificate was issued with a future notBefore."
        case .certificateRevoked:
            "The CA revoked the peer's certificate: a CRL or the OCSP responder says so. Only a new certificate helps."
        case .unknownCA:
            "The end that checked the certificate does not have (or does not trust, flags CT) the CA that issued it, so the chain cannot be verified."
        case .idNotInSAN:
            "An ID other than the certificate's subject may only be used when it appears as a subjectAltName of the certificate. The configured ID is not one of them."
        case .certNotInNSS:
            "leftcert=/rightcert= names a nickname the NSS database does not hold, so the connection cannot load or authenticate."
        case .privateKeyMissing:
            "The certificate is in the NSS database but its private key is not (imported without the key, or a different CKAID), so this end cannot sign."
        case .noPSK:
            "authby=secret, but ipsec.secrets has no entry matching this pair of IDs on the end that says so."
        }
    }

    /// Commands for the end that must act (the one that rejected, or holds the credential).
    func steps(_ end: End, nickname: String?, cli: IpsecCLI) -> [RemedyStep] {
        let nss = cli.modern ? "ipsec certutil" : "certutil -d sql:/var/lib/ipsec/nss"
        let nssNote = cli.modern ? "" : " (the NSS database is /var/lib/ipsec/nss on Debian, Ubuntu and Fedora, /etc/ipsec.d on RHEL)"
        let nick = nickname ?? "<nickname>"
        switch self {
        case .certificateExpired, .certificateNotYetValid:
            return [
                .check(end, "Show the certificate's validity period\(nssNote)", "\(nss) -L -n \(nick) | grep -A2 Validity"),
                .check(.both, "Compare both ends' clocks (NTP)", "date -u; timedatectl status | grep -i synchronized"),
                .command(end, "Import a valid certificate (PKCS#12 with its key) and restart", "ipsec import \(nick).p12 && systemctl restart ipsec"),
            ]
        case .certificateRevoked:
            return [
                .check(end, "List the CRLs pluto holds", cli.modern ? "ipsec listcrls" : "ipsec auto --listcrls"),
                .command(end == .local ? .peer : .local, "Issue a new certificate for the revoked end and import it there", "ipsec import <new-certificate>.p12"),
            ]
        case .unknownCA:
            return [
                .check(end, "List the CAs in the NSS database and their trust flags (a CA needs CT,,)\(nssNote)", "\(nss) -L"),
                .command(end, "Import the issuing CA as trusted", "\(nss) -A -n \"<ca-name>\" -t CT,, -i <ca>.crt"),
            ]
        case .idNotInSAN:
            return [
                .check(end, "Show the certificate's subjectAltNames\(nssNote)", "\(nss) -L -n \(nick) | grep -A3 'Subject Alt Name'"),
                .check(.both, "Use an ID the certificate holds: one of its SANs, or leftid=%fromcert (its subject DN), and the same value as the other end's rightid", nil),
            ]
        case .certNotInNSS:
            return [
                .check(end, "List the nicknames in the NSS database: leftcert= must be one of them\(nssNote)", "\(nss) -L"),
                .command(end, "Import the certificate with its key", "ipsec import \(nick).p12"),
            ]
        case .privateKeyMissing:
            return [
                .check(end, "List the private keys in the NSS database\(nssNote)", "\(nss) -K"),
                .command(end, "Import the PKCS#12 file that holds certificate and key", "ipsec import \(nick).p12"),
            ]
        case .noPSK:
            return [
                .config(end, "Add the PSK for this pair of IDs (the same value as the other end)", file: "/etc/ipsec.secrets", connection: nil,
                        remove: [], add: ["<leftid> <rightid> : PSK \"<the same secret on both ends>\""]),
                .command(end, "Reload the secrets", cli.rereadSecrets),
            ]
        }
    }
}
