#if canImport(Glibc)
import Glibc
#endif
import Foundation
import StewardCrypto
import Testing

/// The keyed primitives behind pseudonymous ids and sealed cursors, and the district secret
/// that keys them.
@Suite struct KeyedHashTests {
    // MARK: HMAC-SHA-256, RFC 4231 section 4

    static func bytes(_ byte: UInt8, _ count: Int) -> [UInt8] { [UInt8](repeating: byte, count: count) }

    @Test func hmacMatchesRFC4231Case1() {
        let mac = KeyedHash.hmacSHA256(key: Self.bytes(0x0b, 20), message: Array("Hi There".utf8))
        #expect(mac.hex == "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7")
    }

    @Test func hmacMatchesRFC4231Case2AKeyShorterThanTheOutput() {
        let mac = KeyedHash.hmacSHA256(key: Array("Jefe".utf8), message: Array("what do ya want for nothing?".utf8))
        #expect(mac.hex == "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843")
    }

    @Test func hmacMatchesRFC4231Cases3And4() {
        #expect(KeyedHash.hmacSHA256(key: Self.bytes(0xaa, 20), message: Self.bytes(0xdd, 50)).hex
                == "773ea91e36800e46854db8ebd09181a72959098b3ef8c122d9635514ced565fe")
        #expect(KeyedHash.hmacSHA256(key: Array(1...25), message: Self.bytes(0xcd, 50)).hex
                == "82558a389a443c0ea4cc819899f2083a85f0faa3e578f8077a2e3ff46729665b")
    }

    @Test func hmacMatchesRFC4231Case5TruncatedTo128Bits() {
        let mac = KeyedHash.hmacSHA256(key: Self.bytes(0x0c, 20), message: Array("Test With Truncation".utf8))
        #expect(Array(mac.prefix(16)).hex == "a3b6167473100ee06e0c796c2955552b")
    }

    @Test func hmacMatchesRFC4231Case6AKeyLargerThanTheBlock() {
        let mac = KeyedHash.hmacSHA256(key: Self.bytes(0xaa, 131),
                                       message: Array("Test Using Larger Than Block-Size Key - Hash Key First".utf8))
        #expect(mac.hex == "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54")
    }

    @Test func hmacMatchesRFC4231Case7AKeyAndMessageLargerThanTheBlock() {
        let message = "This is a test using a larger than block-size key and a larger than block-size data. "
            + "The key needs to be hashed before being used by the HMAC algorithm."
        let mac = KeyedHash.hmacSHA256(key: Self.bytes(0xaa, 131), message: Array(message.utf8))
        #expect(mac.hex == "9b09ffa71b942fcb27635fbcd5b0e944bfdc63644f0713938a7f51535c3a35e2")
    }

    @Test func hmacOfAnEmptyMessageIsDefined() {
        // HMAC-SHA-256 under 32 bytes of 0x0b over nothing, from Python's hmac module.
        #expect(KeyedHash.hmacSHA256(key: Self.bytes(0x0b, 32), message: []).hex
                == "5177e637aaac0b50e5dca8bb05b0b571444bd59b9b0d834d50681af21fc14b1e")
    }

    // MARK: AES-256-GCM sealing

    static let key = SealingKey((0..<32).map { UInt8($0) })

    @Test func aSealedTokenOpensToWhatWasSealed() {
        for plaintext in [[], Array("cursor:stu-0000042".utf8), Self.bytes(0x5a, 1000)] {
            let sealed = Self.key.seal(plaintext)
            #expect(sealed.count == 12 + plaintext.count + 16)
            #expect(Self.key.open(sealed) == plaintext)
        }
    }

    @Test func sealingTheSameTokenTwiceGivesDifferentBytes() {
        let plaintext = Array("stu-0000001".utf8)
        #expect(Self.key.seal(plaintext) != Self.key.seal(plaintext))
    }

    @Test func anyAlteredByteMakesATokenUnopenable() {
        let sealed = Self.key.seal(Array("stu-0000042".utf8))
        for index in sealed.indices {
            var tampered = sealed
            tampered[index] ^= 0x01
            #expect(Self.key.open(tampered) == nil, "flipping a bit of byte \(index) went unnoticed")
        }
    }

    @Test func aTruncatedOrExtendedTokenDoesNotOpen() {
        let sealed = Self.key.seal(Array("stu-0000042".utf8))
        #expect(Self.key.open(Array(sealed.dropLast())) == nil)
        #expect(Self.key.open(sealed + [0]) == nil)
        #expect(Self.key.open(Array(sealed.prefix(27))) == nil)
        #expect(Self.key.open([]) == nil)
    }

    @Test func aTokenSealedUnderAnotherKeyDoesNotOpen() {
        let other = SealingKey((0..<32).map { UInt8(31 - $0) })
        #expect(other.open(Self.key.seal(Array("stu-0000042".utf8))) == nil)
    }

    // MARK: The district secret

    static func directory() -> String {
        let path = (NSTemporaryDirectory() as NSString).standardizingPath + "/steward-secret-\(UUID().uuidString)"
        try? FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }

    static func write(_ bytes: [UInt8], to path: String, mode: mode_t) throws {
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        #expect(chmod(path, mode) == 0)
    }

    @Test func theFirstStartMakesAThirtyTwoByteSecretOnlyItsOwnerReads() throws {
        let directory = Self.directory()
        _ = try DistrictSecret.loadOrCreate(in: directory)
        let path = directory + "/" + DistrictSecret.fileName
        var info = stat()
        #expect(stat(path, &info) == 0)
        #expect(info.st_mode & 0o7777 == 0o600)
        #expect(info.st_size == 32)
        #expect(info.st_mode & S_IFMT == S_IFREG)
    }

    @Test func aLaterStartLoadsTheSameSecret() throws {
        let directory = Self.directory()
        let path = directory + "/" + DistrictSecret.fileName
        let first = try DistrictSecret.loadOrCreate(in: directory)
        let stored = FileManager.default.contents(atPath: path)
        let second = try DistrictSecret.loadOrCreate(in: directory)
        #expect(FileManager.default.contents(atPath: path) == stored)
        #expect(first.pseudonym(partner: "mathfacts", sourcedId: "stu-0000001")
                == second.pseudonym(partner: "mathfacts", sourcedId: "stu-0000001"))
        let token = first.sealingKey(purpose: "cursor").seal(Array("stu-0000001".utf8))
        #expect(second.sealingKey(purpose: "cursor").open(token) == Array("stu-0000001".utf8))
    }

    @Test func twoDistrictsMakeDifferentSecrets() throws {
        let one = try DistrictSecret.loadOrCreate(in: Self.directory())
        let two = try DistrictSecret.loadOrCreate(in: Self.directory())
        #expect(one.pseudonym(partner: "p", sourcedId: "s") != two.pseudonym(partner: "p", sourcedId: "s"))
    }

    @Test func aSecretOthersCanReadIsRefusedWithHowToFixIt() throws {
        let directory = Self.directory()
        let path = directory + "/" + DistrictSecret.fileName
        try Self.write(Self.bytes(7, 32), to: path, mode: 0o644)
        #expect {
            try DistrictSecret.loadOrCreate(in: directory)
        } throws: { error in
            guard case .wrongMode = error as? DistrictSecret.LoadError else { return false }
            return "\(error)" == "\(path): the district secret has mode 644; it must be 600 (chmod 600 it) so only the daemon reads it"
        }
    }

    @Test func aSecretOfTheWrongLengthIsRefusedNotReplaced() throws {
        for length in [0, 31, 33] {
            let directory = Self.directory()
            let path = directory + "/" + DistrictSecret.fileName
            try Self.write(Self.bytes(7, length), to: path, mode: 0o600)
            #expect {
                try DistrictSecret.loadOrCreate(in: directory)
            } throws: { error in
                guard case .wrongLength = error as? DistrictSecret.LoadError else { return false }
                return "\(error)" == "\(path): the district secret is \(length) bytes, not 32; restore it from backup: a new one would change every partner's identifiers"
            }
            #expect(FileManager.default.contents(atPath: path) == Data(Self.bytes(7, length)))
        }
    }

    @Test func aMissingStateDirectoryIsAClearError() {
        let directory = Self.directory() + "/missing"
        #expect {
            try DistrictSecret.loadOrCreate(in: directory)
        } throws: { error in
            guard case .unreadable = error as? DistrictSecret.LoadError else { return false }
            return "\(error)".hasPrefix("\(directory)/district.secret: the district secret cannot be read or made: ")
        }
    }

    @Test func pseudonymsAre128BitHexDifferentPerPartnerAndPerStudent() {
        let secret = DistrictSecret(bytes: (0..<32).map { UInt8($0) })
        let id = secret.pseudonym(partner: "mathfacts", sourcedId: "stu-0000001")
        #expect(id.count == 32 && id.allSatisfy { $0.isHexDigit && !$0.isUppercase })
        #expect(id == secret.pseudonym(partner: "mathfacts", sourcedId: "stu-0000001"))
        #expect(id != secret.pseudonym(partner: "readingroom", sourcedId: "stu-0000001"))
        #expect(id != secret.pseudonym(partner: "mathfacts", sourcedId: "stu-0000002"))
        // The separator keeps partner and id apart: "ab" + "c" is not "a" + "bc".
        #expect(secret.pseudonym(partner: "ab", sourcedId: "c") != secret.pseudonym(partner: "a", sourcedId: "bc"))
    }

    /// A partner's ids never change between releases: these values were computed outside
    /// Steward (Python's `hmac` over the same message), and pin the message's layout.
    @Test func aPseudonymIsTheFirst128BitsOfHMACSHA256OverTheLabelPartnerAndId() {
        let secret = DistrictSecret(bytes: [UInt8](repeating: 7, count: 32))
        #expect(secret.pseudonym(partner: "mathfacts", sourcedId: "stu-0000001") == "80c0467bfdc5f12af24ebd179e2ef3ba")
        #expect(secret.pseudonym(partner: "mathfacts", sourcedId: "Élodie-北京") == "a1be8fdee4aeae210216ed398900cd0c")
    }

    @Test func sealingKeysForDifferentPurposesDoNotOpenEachOthersTokens() {
        let secret = DistrictSecret(bytes: (0..<32).map { UInt8($0) })
        let token = secret.sealingKey(purpose: "cursor").seal(Array("stu-0000001".utf8))
        #expect(secret.sealingKey(purpose: "cursor").open(token) == Array("stu-0000001".utf8))
        #expect(secret.sealingKey(purpose: "other").open(token) == nil)
    }
}

@Suite struct HMACKeyTests {
    @Test func aKeyedContextMacsAsTheOneShotDoesFromManyThreadsAtOnce() async {
        let key = Digest.randomBytes(32)
        let hmac = HMACKey(key)
        let messages = (0..<200).map { Array("steward/pseudonym/v1\u{0}partner\u{0}stu-\($0)".utf8) + Digest.randomBytes($0 % 7) }
        let expected = messages.map { KeyedHash.hmacSHA256(key: key, message: $0) }
        let results = await withTaskGroup(of: (Int, [UInt8]).self) { group in
            for (index, message) in messages.enumerated() { group.addTask { (index, hmac.mac(message)) } }
            var results = [[UInt8]](repeating: [], count: messages.count)
            for await (index, mac) in group { results[index] = mac }
            return results
        }
        #expect(results == expected)
        #expect(hmac.mac([]) == KeyedHash.hmacSHA256(key: key, message: []))
    }
}
