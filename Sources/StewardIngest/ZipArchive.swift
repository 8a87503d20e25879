#if canImport(Glibc)
import Glibc
#endif
import CZlib
import Foundation

/// A zip file read in place: its central directory is read once, and each entry is streamed from
/// the file on request, inflated a chunk at a time. Nothing is extracted to disk and memory does
/// not grow with the size of the archive or of an entry.
///
/// It reads what SIS exports and desktop tools write: stored and deflated entries, Zip64 (for
/// drops beyond 4 GiB or 65,535 entries), data descriptors (sizes are taken from the central
/// directory), archive comments. It refuses, with an error that names the entry and says what to
/// do: encrypted entries, other compression methods, archives split across several files, names
/// that are absolute or climb out with `..`, two entries of the same name, a truncated or damaged
/// archive, a checksum that does not match, and an entry that inflates beyond its declared size.
public final class ZipArchive: Sendable {
    /// One file (or folder) in the archive, as its central directory describes it.
    public struct Entry: Sendable, Equatable {
        /// The path inside the archive, with `/` between folders; a folder's ends with `/`.
        public let name: String
        /// 0 stored, 8 deflate; others are refused when read.
        public let method: UInt16
        public let flags: UInt16
        public let checksum: UInt32
        public let compressedSize: UInt64
        public let size: UInt64
        let localHeaderOffset: UInt64

        public var isDirectory: Bool { name.hasSuffix("/") }
        /// Traditional or strong encryption (general-purpose flag bits 0 and 6), or AES (method 99).
        public var isEncrypted: Bool { flags & 0x41 != 0 || method == 99 }
    }

    public let path: String
    /// In the order of the central directory.
    public let entries: [Entry]
    private let file: ReadOnlyFile
    /// Where the central directory starts: no entry's data may reach past it.
    private let dataEnd: UInt64

    static let localHeaderSignature: UInt32 = 0x0403_4B50
    static let centralHeaderSignature: UInt32 = 0x0201_4B50
    static let endSignature: UInt32 = 0x0605_4B50
    static let zip64EndSignature: UInt32 = 0x0606_4B50
    static let zip64LocatorSignature: UInt32 = 0x0706_4B50
    /// The central directory is read whole; this bounds it (about a million entries).
    static let maximumCentralDirectorySize: UInt64 = 64 << 20

    /// Opens the archive and reads its central directory.
    public init(path: String) throws(DropError) {
        self.path = path
        file = try ReadOnlyFile(path: path, location: path, file: nil)
        let directory = try Self.findCentralDirectory(file)
        dataEnd = directory.offset
        entries = try Self.readCentralDirectory(file, directory)
        try Self.checkNames(entries, path: path)
    }

    // MARK: Finding the central directory

    struct CentralDirectory {
        var offset: UInt64
        var size: UInt64
        var count: UInt64
    }

    /// Finds the end-of-central-directory record in the last 64 KiB + 22 bytes (it is followed
    /// only by a comment of at most 65,535 bytes) and, when a Zip64 locator precedes it, the Zip64
    /// end record, whose values then stand. Checks that the directory lies inside the file.
    private static func findCentralDirectory(_ file: ReadOnlyFile) throws(DropError) -> CentralDirectory {
        let tailLength = min(file.size, 22 + 0xFFFF)
        let tailStart = file.size - tailLength
        let tail = try readBytes(file, at: tailStart, count: Int(tailLength))
        guard let endOffset = endRecordOffset(in: tail) else {
            throw corrupt(file, "it has no end-of-central-directory record: the file is not a zip, or was cut short; copy it again")
        }
        let end = LittleEndianBytes(tail, from: endOffset)
        let endStart = tailStart + UInt64(endOffset)
        let directory: CentralDirectory
        let recordsStart: UInt64
        if let zip64 = try readZip64End(file, before: endStart) {
            (directory, recordsStart) = zip64
        } else {
            guard end.u16(4) == 0, end.u16(6) == 0, end.u16(8) == end.u16(10) else { throw spanned(file) }
            directory = CentralDirectory(offset: UInt64(end.u32(16)), size: UInt64(end.u32(12)), count: UInt64(end.u16(10)))
            recordsStart = endStart
        }
        guard directory.offset <= recordsStart, directory.size <= recordsStart - directory.offset else {
            throw corrupt(file, "its central directory lies outside the file; the zip is truncated or damaged: copy it again")
        }
        guard directory.size <= maximumCentralDirectorySize else {
            throw DropError(.unsupported, location: file.location,
                            "its central directory is larger than \(maximumCentralDirectorySize >> 20) MiB; a OneRoster drop holds a few files: check that this is the right zip")
        }
        guard directory.count <= directory.size / 46 else {
            throw corrupt(file, "its central directory is shorter than its \(directory.count) entries need; the zip is damaged: copy it again")
        }
        return directory
    }

    /// The Zip64 end record's directory, and where that record starts, when a Zip64 locator sits
    /// right before the end record at `endStart`; nil for a zip without Zip64.
    private static func readZip64End(_ file: ReadOnlyFile, before endStart: UInt64) throws(DropError) -> (CentralDirectory, UInt64)? {
        guard endStart >= 20 else { return nil }
        let locator = LittleEndianBytes(try readBytes(file, at: endStart - 20, count: 20), from: 0)
        guard locator.u32(0) == zip64LocatorSignature else { return nil }
        guard locator.u32(4) == 0, locator.u32(16) <= 1 else { throw spanned(file) }
        let start = locator.u64(8)
        guard start <= endStart - 20, endStart - 20 - start >= 56 else {
            throw corrupt(file, "its Zip64 end record is out of place; the zip is damaged: copy it again")
        }
        let record = LittleEndianBytes(try readBytes(file, at: start, count: 56), from: 0)
        guard record.u32(0) == zip64EndSignature else {
            throw corrupt(file, "its Zip64 end record is missing; the zip is damaged: copy it again")
        }
        guard record.u32(16) == 0, record.u32(20) == 0, record.u64(24) == record.u64(32) else { throw spanned(file) }
        return (CentralDirectory(offset: record.u64(48), size: record.u64(40), count: record.u64(32)), start)
    }

    /// Where the end record starts in `tail` (the file's last bytes): the last signature whose
    /// comment runs exactly to the end of the file, or failing that (trailing bytes after the
    /// comment) the last one whose comment fits.
    private static func endRecordOffset(in tail: [UInt8]) -> Int? {
        guard tail.count >= 22 else { return nil }
        var fallback: Int?
        for offset in stride(from: tail.count - 22, through: 0, by: -1)
        where tail[offset] == 0x50 && tail[offset + 1] == 0x4B && tail[offset + 2] == 0x05 && tail[offset + 3] == 0x06 {
            let commentEnd = offset + 22 + Int(LittleEndianBytes(tail, from: offset).u16(20))
            if commentEnd == tail.count { return offset }
            if commentEnd < tail.count && fallback == nil { fallback = offset }
        }
        return fallback
    }

    // MARK: Reading the central directory

    private static func readCentralDirectory(_ file: ReadOnlyFile, _ directory: CentralDirectory) throws(DropError) -> [Entry] {
        let bytes = try readBytes(file, at: directory.offset, count: Int(directory.size))
        var entries: [Entry] = []
        entries.reserveCapacity(Int(directory.count))
        var offset = 0
        for number in 0..<directory.count {
            guard offset + 46 <= bytes.count, LittleEndianBytes(bytes, from: offset).u32(0) == centralHeaderSignature else {
                throw corrupt(file, "entry \(number + 1) of its central directory is damaged; copy the zip again")
            }
            let header = LittleEndianBytes(bytes, from: offset)
            let nameLength = Int(header.u16(28)), extraLength = Int(header.u16(30)), commentLength = Int(header.u16(32))
            let nameStart = offset + 46, extraStart = nameStart + nameLength
            offset = extraStart + extraLength + commentLength
            guard offset <= bytes.count else {
                throw corrupt(file, "entry \(number + 1) of its central directory runs past its end; copy the zip again")
            }
            let flags = header.u16(8)
            let name = decodeName(bytes[nameStart..<extraStart], isUTF8: flags & 0x800 != 0)
            var sizes = (compressed: UInt64(header.u32(20)), size: UInt64(header.u32(24)), offset: UInt64(header.u32(42)))
            try readZip64Extra(bytes[extraStart..<(extraStart + extraLength)], into: &sizes,
                               entry: name, file: file)
            entries.append(Entry(name: name, method: header.u16(10), flags: flags, checksum: header.u32(16),
                                 compressedSize: sizes.compressed, size: sizes.size, localHeaderOffset: sizes.offset))
        }
        return entries
    }

    /// Replaces the 32-bit values that are all ones with those of the Zip64 extra field, which
    /// holds (only) those, in this order: size, compressed size, local header offset.
    private static func readZip64Extra(_ extra: ArraySlice<UInt8>, into sizes: inout (compressed: UInt64, size: UInt64, offset: UInt64),
                                       entry: String, file: ReadOnlyFile) throws(DropError) {
        let all: UInt64 = 0xFFFF_FFFF
        guard sizes.compressed == all || sizes.size == all || sizes.offset == all else { return }
        let bytes = Array(extra)
        var position = 0
        while position + 4 <= bytes.count {
            let field = LittleEndianBytes(bytes, from: position)
            let id = field.u16(0), length = Int(field.u16(2))
            let body = position + 4
            position = body + length
            guard id == 0x0001, position <= bytes.count else { continue }
            var cursor = body
            func next() throws(DropError) -> UInt64 {
                guard cursor + 8 <= body + length else {
                    throw corrupt(file, "\(entry): its Zip64 sizes are missing; the zip is damaged: copy it again")
                }
                defer { cursor += 8 }
                return LittleEndianBytes(bytes, from: cursor).u64(0)
            }
            if sizes.size == all { sizes.size = try next() }
            if sizes.compressed == all { sizes.compressed = try next() }
            if sizes.offset == all { sizes.offset = try next() }
            return
        }
        throw corrupt(file, "\(entry): its sizes need a Zip64 field that is missing; the zip is damaged: copy it again")
    }

    /// UTF-8 when the entry says so (flag bit 11) or its bytes are valid UTF-8; otherwise the
    /// original IBM PC code page 437 that zip names default to.
    private static func decodeName(_ bytes: ArraySlice<UInt8>, isUTF8: Bool) -> String {
        if let text = String(validating: bytes, as: UTF8.self) { return text }
        if isUTF8 { return String(decoding: bytes, as: UTF8.self) }
        return String(bytes.map { $0 < 0x80 ? Character(Unicode.Scalar($0)) : codePage437High[Int($0 - 0x80)] })
    }

    private static let codePage437High = Array(
        "ÇüéâäàåçêëèïîìÄÅÉæÆôöòûùÿÖÜ¢£¥₧ƒáíóúñÑªº¿⌐¬½¼¡«»░▒▓│┤╡╢╖╕╣║╗╝╜╛┐└┴┬├─┼╞╟╚╔╩╦╠═╬╧╨╤╥╙╘╒╓╫╪┘┌█▄▌▐▀αßΓπΣσµτΦΘΩδ∞φε∩≡±≥≤⌠⌡÷≈°∙·√ⁿ²■\u{A0}"
    )

    /// Refuses names that are absolute, climb out with `..` or hold a NUL or a drive letter, and
    /// two entries of one name. A `\` counts as a separator here, as Windows tools write it.
    private static func checkNames(_ entries: [Entry], path: String) throws(DropError) {
        var seen = Set<String>()
        for entry in entries {
            let components = entry.name.split(separator: "/", omittingEmptySubsequences: false)
                .flatMap { $0.split(separator: "\\", omittingEmptySubsequences: false) }
            let isAbsolute = entry.name.hasPrefix("/") || entry.name.hasPrefix("\\")
                || (components.first.map { $0.count == 2 && $0.last == ":" } ?? false)
            if isAbsolute || components.contains("..") || entry.name.contains("\0") || entry.name.isEmpty {
                throw DropError(.unsafeName, location: path, file: entry.name,
                                "the zip holds an entry named \"\(entry.name)\", which is empty, absolute or climbs out with '..'; Steward refuses such archives: zip the export folder again with plain relative names")
            }
            guard seen.insert(entry.name.replacingOccurrences(of: "\\", with: "/")).inserted else {
                throw DropError(.corruptArchive, location: path, file: entry.name,
                                "the zip holds two entries named \"\(entry.name)\"; it is unclear which one to read: zip the export folder again")
            }
        }
    }

    // MARK: Reading an entry

    /// Streams the contents of `entry` to `chunk`, at most `chunkSize` bytes at a time, and checks
    /// at the end that they match the entry's size and CRC-32. Inflating stops as soon as an entry
    /// yields more than its declared size.
    public func read(_ entry: Entry, chunkSize: Int = 256 << 10, _ chunk: (UnsafeRawBufferPointer) throws -> Void) throws {
        if entry.isEncrypted {
            throw DropError(.unsupported, location: path, file: entry.name,
                            "\(entry.name) is encrypted; Steward reads only unencrypted zips: export the drop without a password")
        }
        guard entry.method == 0 || entry.method == 8 else {
            throw DropError(.unsupported, location: path, file: entry.name,
                            "\(entry.name) is compressed with \(Self.methodName(entry.method)); Steward reads stored or deflated entries: zip the drop again with ordinary (deflate) compression")
        }
        let start = try dataStart(entry)
        let reader = ZipEntryReader(file: file, entry: entry, start: start, chunkSize: chunkSize)
        let checksum = entry.method == 0 ? try reader.copyStored(chunk) : try reader.inflate(chunk)
        guard checksum == entry.checksum else {
            throw DropError(.checksumMismatch, location: path, file: entry.name,
                            "\(entry.name) does not match its CRC-32 checksum; the zip is damaged: copy it again from the SIS export")
        }
    }

    /// Where the entry's data starts: after its local header, whose name and extra field lengths
    /// may differ from the central directory's.
    private func dataStart(_ entry: Entry) throws(DropError) -> UInt64 {
        guard entry.localHeaderOffset <= dataEnd, dataEnd - entry.localHeaderOffset >= 30 else {
            throw Self.corrupt(file, "\(entry.name): its local header lies outside the archive; the zip is damaged: copy it again")
        }
        let header = LittleEndianBytes(try Self.readBytes(file, at: entry.localHeaderOffset, count: 30), from: 0)
        guard header.u32(0) == Self.localHeaderSignature else {
            throw Self.corrupt(file, "\(entry.name): its local header is missing; the zip is damaged: copy it again")
        }
        if header.u16(6) & 0x41 != 0 {
            throw DropError(.unsupported, location: path, file: entry.name,
                            "\(entry.name) is encrypted; Steward reads only unencrypted zips: export the drop without a password")
        }
        let start = entry.localHeaderOffset + 30 + UInt64(header.u16(26)) + UInt64(header.u16(28))
        guard start <= dataEnd, entry.compressedSize <= dataEnd - start else {
            throw Self.corrupt(file, "\(entry.name): its data runs past the end of the archive; the zip is truncated or damaged: copy it again")
        }
        return start
    }

    private static func methodName(_ method: UInt16) -> String {
        switch method {
        case 9: return "Deflate64"
        case 12: return "bzip2"
        case 14: return "LZMA"
        case 93: return "Zstandard"
        case 95: return "XZ"
        case 98: return "PPMd"
        default: return "compression method \(method)"
        }
    }

    // MARK: Helpers

    static func readBytes(_ file: ReadOnlyFile, at offset: UInt64, count: Int) throws(DropError) -> [UInt8] {
        var bytes = [UInt8](repeating: 0, count: count)
        let read = try bytes.withUnsafeMutableBytes { buffer in
            Result { () throws(DropError) in try file.read(into: buffer, at: offset) }
        }.get()
        guard read == count else {
            throw corrupt(file, "it ends before its structure says it does; the zip is truncated: copy it again")
        }
        return bytes
    }

    static func corrupt(_ file: ReadOnlyFile, _ message: String) -> DropError {
        DropError(.corruptArchive, location: file.location, file: nil, "this zip cannot be read: " + message)
    }

    private static func spanned(_ file: ReadOnlyFile) -> DropError {
        DropError(.unsupported, location: file.location,
                  "this zip is split across several files (a spanned archive); Steward reads single-file zips: zip the drop again as one file")
    }
}

/// Little-endian integers at byte offsets from `start` of a byte array (the caller checks bounds).
struct LittleEndianBytes {
    let bytes: [UInt8]
    let start: Int

    init(_ bytes: [UInt8], from start: Int) {
        self.bytes = bytes
        self.start = start
    }

    func u16(_ offset: Int) -> UInt16 {
        UInt16(bytes[start + offset]) | UInt16(bytes[start + offset + 1]) << 8
    }

    func u32(_ offset: Int) -> UInt32 {
        UInt32(u16(offset)) | UInt32(u16(offset + 2)) << 16
    }

    func u64(_ offset: Int) -> UInt64 {
        UInt64(u32(offset)) | UInt64(u32(offset + 4)) << 32
    }
}
