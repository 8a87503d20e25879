#if canImport(Glibc)
import Glibc
#endif

/// The district's secret: 32 random bytes made at first start and kept in the state directory
/// with mode 0600. Every pseudonymous identifier and every sealed cursor is keyed by it, so it
/// never leaves the machine and is never logged.
public struct DistrictSecret: Sendable, CustomStringConvertible {
    public static let fileName = "district.secret"
    static let length = 32
    private let bytes: [UInt8]
    /// The secret as a keyed HMAC context, set up once for every pseudonym.
    private let pseudonymKey: HMACKey

    /// Never the bytes: a secret printed by mistake says only what it is.
    public var description: String { "DistrictSecret(redacted)" }

    /// For tests and tools that hold a secret already.
    public init(bytes: [UInt8]) {
        precondition(bytes.count == Self.length, "a district secret is \(Self.length) bytes")
        self.bytes = bytes
        pseudonymKey = HMACKey(bytes)
    }

    public enum LoadError: Error, CustomStringConvertible {
        case unreadable(path: String, reason: String)
        case wrongMode(path: String, mode: mode_t)
        case wrongLength(path: String, length: Int)

        public var description: String {
            switch self {
            case .unreadable(let path, let reason): return "\(path): the district secret cannot be read or made: \(reason)"
            case .wrongMode(let path, let mode):
                return "\(path): the district secret has mode \(String(mode & 0o777, radix: 8)); it must be 600 (chmod 600 it) so only the daemon reads it"
            case .wrongLength(let path, let length):
                return "\(path): the district secret is \(length) bytes, not \(DistrictSecret.length); restore it from backup: a new one would change every partner's identifiers"
            }
        }
    }

    /// Reads the secret in `directory`, making it when there is none: written to a temporary
    /// file (mode 0600), fsynced, linked into place (never over an existing one), and the
    /// directory fsynced, so a crash leaves either no secret or the whole one.
    public static func loadOrCreate(in directory: String) throws(LoadError) -> DistrictSecret {
        let path = directory + "/" + fileName
        if access(path, F_OK) != 0 && errno == ENOENT {
            let temporary = path + ".new-\(getpid())"
            let descriptor = open(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0o600)
            guard descriptor >= 0 else { throw .unreadable(path: path, reason: String(cString: strerror(errno))) }
            let bytes = Digest.randomBytes(length)
            let written = bytes.withUnsafeBytes { write(descriptor, $0.baseAddress, $0.count) }
            let synced = fsync(descriptor) == 0
            let reason = String(cString: strerror(errno))
            close(descriptor)
            defer { unlink(temporary) }
            guard written == length, synced else { throw .unreadable(path: path, reason: "writing it failed: \(reason)") }
            // link() fails if another start made one first; then that one is read below.
            if link(temporary, path) == 0 {
                let folder = open(directory, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
                if folder >= 0 { fsync(folder); close(folder) }
                return DistrictSecret(bytes: bytes)
            }
            guard errno == EEXIST else { throw .unreadable(path: path, reason: String(cString: strerror(errno))) }
        }
        let descriptor = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)
        guard descriptor >= 0 else { throw .unreadable(path: path, reason: String(cString: strerror(errno))) }
        defer { close(descriptor) }
        var info = stat()
        guard fstat(descriptor, &info) == 0 else { throw .unreadable(path: path, reason: String(cString: strerror(errno))) }
        guard info.st_mode & 0o077 == 0 else { throw .wrongMode(path: path, mode: info.st_mode) }
        var buffer = [UInt8](repeating: 0, count: length + 1)
        let count = buffer.withUnsafeMutableBytes { read(descriptor, $0.baseAddress, $0.count) }
        guard count == length else { throw .wrongLength(path: path, length: max(count, 0)) }
        return DistrictSecret(bytes: Array(buffer.prefix(length)))
    }

    /// The pairwise pseudonymous id of `sourcedId` for `partner`: HMAC-SHA-256 of the secret over
    /// both, cut to 128 bits, hexadecimal. Stable across restarts and reloads; different for every
    /// partner, so two partners cannot join their data on it.
    public func pseudonym(partner: String, sourcedId: String) -> String {
        var message: [UInt8] = []
        message.reserveCapacity(Self.pseudonymLabel.count + partner.utf8.count + sourcedId.utf8.count + 1)
        message += Self.pseudonymLabel
        message += partner.utf8
        message.append(0)
        message += sourcedId.utf8
        let mac = pseudonymKey.mac(message)
        // The first 16 bytes as 32 lowercase hex digits, written in place.
        return String(unsafeUninitializedCapacity: 32) { text in
            for index in 0..<16 {
                text[2 * index] = Self.hexDigits[Int(mac[index] >> 4)]
                text[2 * index + 1] = Self.hexDigits[Int(mac[index] & 0x0f)]
            }
            return 32
        }
    }

    /// `steward/pseudonym/v1` and a NUL: what every pseudonym's message starts with.
    private static let pseudonymLabel = Array("steward/pseudonym/v1\u{0}".utf8)
    private static let hexDigits = Array("0123456789abcdef".utf8)

    /// A sealing key for `purpose`, derived from the secret, so no two uses share a key.
    public func sealingKey(purpose: String) -> SealingKey {
        SealingKey(KeyedHash.hmacSHA256(key: bytes, message: Array("steward/key/v1\u{0}\(purpose)".utf8)))
    }
}
