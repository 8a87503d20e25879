import Foundation
import StewardHarness
import StewardIngest
import Testing

/// A scratch folder for one test, removed at the end.
final class DropScratchFolder {
    let path: String

    init() throws {
        path = NSTemporaryDirectory() + "steward-drop-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }

    deinit {
        try? FileManager.default.removeItem(atPath: path)
    }

    /// Writes `path/name` (making folders on the way) and returns its full path.
    @discardableResult
    func write(_ name: String, _ bytes: [UInt8]) throws -> String {
        let full = path + "/" + name
        try FileManager.default.createDirectory(atPath: (full as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        try Data(bytes).write(to: URL(fileURLWithPath: full))
        return full
    }

    /// Builds `name` with Python's `zipfile`: `script` runs with `path` (the zip's path), `z` (the
    /// open `ZipFile`, compression deflate) and the helpers of ``pythonPrelude``; `before` runs
    /// before the zip is opened and `after` once it is closed.
    func zip(_ script: String, named name: String = "drop.zip", before: String = "", after: String = "") throws -> String {
        let zipPath = path + "/" + name
        let program = Self.pythonPrelude + before + "with zipfile.ZipFile(path, 'w', zipfile.ZIP_DEFLATED) as z:\n"
            + script.split(separator: "\n", omittingEmptySubsequences: false).map { "    " + $0 }.joined(separator: "\n")
            + "\n" + after
        let result = try runCommand("/usr/bin/python3", ["-c", program, zipPath])
        guard result.status == 0 else { throw ZipScriptFailed(message: result.stderr) }
        return zipPath
    }

    /// `patch(find, offset, bytes)`: overwrites `bytes` at `offset` past each place `find` occurs.
    static let pythonPrelude = """
        import sys, zipfile, struct
        path = sys.argv[1]
        def patch(find, offset, data, every=True):
            raw = bytearray(open(path, 'rb').read())
            at = raw.find(find)
            while at >= 0:
                raw[at + offset:at + offset + len(data)] = data
                at = raw.find(find, at + 1) if every else -1
            open(path, 'wb').write(raw)

        """
}

struct ZipScriptFailed: Error {
    var message: String
}

/// Every byte of `name` in `drop`, with the size of each chunk it came in.
func readDropFile(_ drop: any DropSource, _ name: String) throws -> (bytes: [UInt8], chunks: [Int]) {
    var bytes: [UInt8] = []
    var chunks: [Int] = []
    try drop.read(name) { chunk in
        bytes.append(contentsOf: chunk)
        chunks.append(chunk.count)
    }
    return (bytes, chunks)
}

func readDropText(_ drop: any DropSource, _ name: String) throws -> String {
    String(decoding: try readDropFile(drop, name).bytes, as: UTF8.self)
}

/// The error `body` throws, when it is a ``DropError``.
func dropError(_ body: () throws -> Void) -> DropError? {
    do {
        try body()
        return nil
    } catch {
        return error as? DropError
    }
}

@Suite struct ZipArchiveTests {
    let scratch: DropScratchFolder
    init() throws { scratch = try DropScratchFolder() }

    @Test func readsStoredAndDeflatedEntries() throws {
        let path = try scratch.zip("""
            z.writestr('manifest.csv', 'propertyName,value\\nmanifest.version,1.0\\n', zipfile.ZIP_STORED)
            z.writestr('users.csv', 'sourcedId,givenName\\n' + 'u1,Zoë\\n' * 1000)
            z.writestr('empty.csv', '')
            """)
        let drop = try openDrop(at: path)
        #expect(drop is ZipDrop)
        #expect(drop.location == path)
        #expect(try drop.fileNames() == ["empty.csv", "manifest.csv", "users.csv"])
        #expect(try readDropText(drop, "manifest.csv") == "propertyName,value\nmanifest.version,1.0\n")
        #expect(try readDropText(drop, "users.csv") == "sourcedId,givenName\n" + String(repeating: "u1,Zoë\n", count: 1000))
        #expect(try readDropFile(drop, "empty.csv").chunks == [])
    }

    @Test func aSingleTopFolderIsLeftOutOfTheNames() throws {
        let path = try scratch.zip("""
            z.writestr('export-2024/', '')
            z.writestr('export-2024/users.csv', 'a')
            z.writestr('export-2024/docs/readme.txt', 'b')
            z.writestr('export-2024/.DS_Store', 'x')
            z.writestr('__MACOSX/export-2024/._users.csv', 'x')
            """)
        let drop = try openDrop(at: path)
        #expect(try drop.fileNames() == ["docs/readme.txt", "users.csv"])
        #expect(try readDropText(drop, "users.csv") == "a")
        #expect(dropError { _ = try readDropFile(drop, "export-2024/users.csv") }?.code == .missingFile)
    }

    @Test func namesStayAsTheyAreWithoutASingleTopFolder() throws {
        let mixed = try openDrop(at: scratch.zip("z.writestr('users.csv', 'a')\nz.writestr('extra/readme.txt', 'b')", named: "a.zip"))
        #expect(try mixed.fileNames() == ["extra/readme.txt", "users.csv"])
        let twoFolders = try openDrop(at: scratch.zip("z.writestr('a/users.csv', 'a')\nz.writestr('b/orgs.csv', 'b')", named: "b.zip"))
        #expect(try twoFolders.fileNames() == ["a/users.csv", "b/orgs.csv"])
    }

    @Test func aLargeEntryStreamsInBoundedChunks() throws {
        let path = try scratch.zip("""
            z.writestr('noise.csv', bytes((i * 7919 + i // 251) % 256 for i in range(3_000_000)))
            z.writestr('zeros.csv', bytes(20_000_000))
            z.writestr('stored.csv', bytes(i % 256 for i in range(1_000_000)), zipfile.ZIP_STORED)
            """)
        let drop = try openDrop(at: path)
        let noise = try readDropFile(drop, "noise.csv")
        let expectedNoise = (0..<3_000_000).map { (i: Int) -> UInt8 in UInt8((i * 7919 + i / 251) % 256) }
        #expect(noise.bytes.elementsEqual(expectedNoise))
        let zeros = try readDropFile(drop, "zeros.csv")
        #expect(zeros.bytes.count == 20_000_000 && zeros.bytes.allSatisfy { $0 == 0 })
        let stored = try readDropFile(drop, "stored.csv")
        let expectedStored = (0..<1_000_000).map { (i: Int) -> UInt8 in UInt8(i % 256) }
        #expect(stored.bytes.elementsEqual(expectedStored))
        for chunks in [noise.chunks, zeros.chunks, stored.chunks] {
            #expect(chunks.count > 1 && chunks.allSatisfy { $0 > 0 && $0 <= 256 << 10 })
        }
    }

    @Test func backslashesInNamesAreFolderSeparators() throws {
        let path = try scratch.zip("z.writestr(zipfile.ZipInfo('export\\\\users.csv'), 'a')\nz.writestr(zipfile.ZipInfo('export\\\\orgs.csv'), 'b')")
        let drop = try openDrop(at: path)
        #expect(try drop.fileNames() == ["orgs.csv", "users.csv"])
        #expect(try readDropText(drop, "users.csv") == "a")
    }

    @Test func zip64EndRecordsAndExtraFieldsAreRead() throws {
        // Lowering zipfile's limits makes it write Zip64 extras and end records for small files;
        // the plain end record's values are then spoiled, so only a reader of the Zip64 ones succeeds.
        let path = try scratch.zip("""
            z.writestr('manifest.csv', 'propertyName,value\\n')
            with z.open('users.csv', 'w', force_zip64=True) as f:
                f.write(b'sourcedId\\n' * 5000)
            """, before: "zipfile.ZIP64_LIMIT = 0\nzipfile.ZIP_FILECOUNT_LIMIT = 0\n", after: """
            raw = open(path, 'rb').read()
            assert raw.find(b'PK\\x06\\x06') >= 0 and raw.find(b'PK\\x06\\x07') >= 0
            patch(b'PK\\x05\\x06', 8, b'\\xff' * 12)

            """)
        let drop = try openDrop(at: path)
        #expect(try drop.fileNames() == ["manifest.csv", "users.csv"])
        #expect(try readDropText(drop, "users.csv") == String(repeating: "sourcedId\n", count: 5000))
        #expect(try readDropText(drop, "manifest.csv") == "propertyName,value\n")
    }

    @Test func dataDescriptorsAndCommentsAreRead() throws {
        let path = scratch.path + "/streamed.zip"
        let script = """
            import zipfile, sys
            class Unseekable:
                def __init__(self, f): self.f = f
                def write(self, b): return self.f.write(b)
                def flush(self): self.f.flush()
            with open(sys.argv[1], 'wb') as raw:
                with zipfile.ZipFile(Unseekable(raw), 'w', zipfile.ZIP_DEFLATED) as z:
                    z.writestr('users.csv', 'sourcedId\\nu1\\n' * 100)
                    z.writestr('orgs.csv', 'sourcedId\\no1\\n', zipfile.ZIP_STORED)
                    # A comment that holds a false end signature (Python's own reader is fooled by it).
                    z.comment = b'PK\\x05\\x06' + b'\\0' * 40 + b'exported by a SIS'
            assert open(sys.argv[1], 'rb').read()[6] & 8  # the first entry has a data descriptor
            """
        let result = try runCommand("/usr/bin/python3", ["-c", script, path])
        #expect(result.status == 0, "\(result.stderr)")
        let drop = try openDrop(at: path)
        #expect(try drop.fileNames() == ["orgs.csv", "users.csv"])
        #expect(try readDropText(drop, "users.csv") == String(repeating: "sourcedId\nu1\n", count: 100))
        #expect(try readDropText(drop, "orgs.csv") == "sourcedId\no1\n")
    }

    @Test func aNameWithoutTheUTF8FlagReadsAsCodePage437() throws {
        let path = try scratch.zip("z.writestr('cafX.csv', 'a')", after: "patch(b'cafX', 3, b'\\x82')\n")
        #expect(try openDrop(at: path).fileNames() == ["café.csv"])
    }

    // MARK: Refusals

    @Test func aDamagedStoredEntryFailsItsChecksumAndNamesTheEntry() throws {
        let path = try scratch.zip("z.writestr('users.csv', 'sourcedId\\nu1\\n', zipfile.ZIP_STORED)",
                                   after: "patch(b'sourcedId', 0, b'S')\n")
        let error = dropError { _ = try readDropFile(openDrop(at: path), "users.csv") }
        #expect(error?.code == .checksumMismatch)
        #expect(error?.file == "users.csv")
        #expect(error?.message.contains("users.csv") == true)
        #expect(error?.location == path)
    }

    @Test func aDamagedDeflatedEntryIsRefusedNamingTheEntry() throws {
        let path = try scratch.zip("z.writestr('users.csv', 'sourcedId,givenName\\n' + ''.join('u%d,name%d\\n' % (i, i * 7) for i in range(2000)))")
        // Flip one byte in the middle of the compressed data.
        let script = """
            import sys
            raw = bytearray(open(sys.argv[1], 'rb').read())
            raw[30 + len('users.csv') + 200] ^= 0x55
            open(sys.argv[1], 'wb').write(raw)
            """
        #expect(try runCommand("/usr/bin/python3", ["-c", script, path]).status == 0)
        let error = dropError { _ = try readDropFile(openDrop(at: path), "users.csv") }
        let refusals: [DropError.Code] = [.checksumMismatch, .corruptArchive, .sizeMismatch]
        #expect(refusals.contains { $0 == error?.code })
        #expect(error?.message.hasPrefix("users.csv ") == true)
    }

    private func smallArchive() throws -> [UInt8] {
        let path = try scratch.zip("""
            z.writestr('manifest.csv', 'propertyName,value\\n' * 20)
            z.writestr('users.csv', 'sourcedId\\n' * 50, zipfile.ZIP_STORED)
            """)
        return try [UInt8](Data(contentsOf: URL(fileURLWithPath: path)))
    }

    @Test func everyTruncationIsRefused() throws {
        let whole = try smallArchive()
        for length in 0..<whole.count {
            let cut = try scratch.write("cut.zip", Array(whole[..<length]))
            let error = dropError {
                let drop = try openDrop(at: cut)
                for name in try drop.fileNames() { _ = try readDropFile(drop, name) }
            }
            #expect(error?.code == .corruptArchive, "cut at \(length) of \(whole.count)")
        }
    }

    @Test func anyDamagedByteIsReadOrRefusedNeverMore() throws {
        let whole = try smallArchive()
        for position in whole.indices {
            var damaged = whole
            damaged[position] ^= 0xA5
            let path = try scratch.write("damaged.zip", damaged)
            do {
                let drop = try openDrop(at: path)
                for name in try drop.fileNames() { _ = try readDropFile(drop, name) }
            } catch {
                #expect(error is DropError, "byte \(position): \(error)")
            }
        }
    }

    @Test func encryptedEntriesAreRefusedWhenRead() throws {
        let path = try scratch.zip("z.writestr('users.csv', 'secret')\nz.writestr('orgs.csv', 'open')",
                                   after: "patch(b'PK\\x01\\x02', 8, b'\\x01', every=False)\npatch(b'PK\\x03\\x04', 6, b'\\x01', every=False)\n")
        let drop = try openDrop(at: path)
        #expect(try drop.fileNames() == ["orgs.csv", "users.csv"])
        let error = dropError { _ = try readDropFile(drop, "users.csv") }
        #expect(error?.code == .unsupported)
        #expect(error?.message.contains("encrypted") == true)
        #expect(try readDropText(drop, "orgs.csv") == "open")
    }

    @Test func otherCompressionMethodsAreRefusedByName() throws {
        let path = try scratch.zip("z.writestr('users.csv', 'sourcedId\\n', zipfile.ZIP_LZMA)")
        let error = dropError { _ = try readDropFile(openDrop(at: path), "users.csv") }
        #expect(error?.code == .unsupported)
        #expect(error?.message.contains("LZMA") == true)
    }

    @Test func anEntryThatInflatesBeyondItsDeclaredSizeIsStopped() throws {
        // Declares 1,000 bytes for 10 MB of zeros, in the central directory and the local header.
        let path = try scratch.zip("z.writestr('users.csv', bytes(10_000_000))",
                                   after: "patch(b'PK\\x01\\x02', 24, struct.pack('<I', 1000))\npatch(b'PK\\x03\\x04', 22, struct.pack('<I', 1000))\n")
        var delivered = 0
        let error = dropError { try openDrop(at: path).read("users.csv") { delivered += $0.count } }
        #expect(error?.code == .sizeMismatch)
        #expect(delivered <= 1000)
    }

    @Test(arguments: ["../users.csv", "/etc/passwd", "export/../../users.csv", "C:\\\\users.csv", "..\\\\users.csv"])
    func unsafeNamesAreRefused(_ name: String) throws {
        let path = try scratch.zip("z.writestr(zipfile.ZipInfo('\(name)'), 'x')\nz.writestr('users.csv', 'a')")
        let error = dropError { _ = try openDrop(at: path) }
        #expect(error?.code == .unsafeName)
        #expect(error?.file?.hasSuffix("users.csv") == true || error?.file == "/etc/passwd")
    }

    @Test func twoEntriesOfOneNameAreRefused() throws {
        let path = try scratch.zip("import warnings\nwarnings.simplefilter('ignore')\nz.writestr('users.csv', 'a')\nz.writestr('users.csv', 'b')")
        #expect(dropError { _ = try openDrop(at: path) }?.code == .corruptArchive)
    }

    @Test func anEmptyArchiveHasNoFiles() throws {
        #expect(try openDrop(at: scratch.zip("pass")).fileNames() == [])
    }

    @Test func aFileNamedZipThatIsNotOneIsRefused() throws {
        let path = try scratch.write("drop.zip", Array("sourcedId,name\n".utf8))
        let error = dropError { _ = try openDrop(at: path) }
        #expect(error?.code == .corruptArchive)
        #expect(error?.description.hasPrefix(path + ": ") == true)
    }
}
