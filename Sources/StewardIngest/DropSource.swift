#if canImport(Glibc)
import Glibc
#endif
import Foundation
import StewardSystem

/// A OneRoster drop: a folder or a .zip file, read as a flat list of files.
///
/// A drop is only ever read, never unpacked to disk: each file is streamed in chunks straight into
/// the CSV parser, so memory stays the same whatever the drop's size.
public protocol DropSource: Sendable {
    /// The path the drop was opened from.
    var location: String { get }
    /// The files in the drop, sorted: base names such as `users.csv`, or relative paths such as
    /// `extra/readme.txt` for files in subfolders.
    func fileNames() throws -> [String]
    /// Streams the bytes of the file `name` (one of ``fileNames()``) to `chunk`, in order, a
    /// bounded chunk at a time. A zip entry's checksum and size are checked only at its end: when
    /// this throws, whatever was handed over already must be thrown away too.
    func read(_ name: String, _ chunk: (UnsafeRawBufferPointer) throws -> Void) throws
}

/// A drop that cannot be read, or a file in it that cannot: what happened, and what to do.
///
/// Messages name the drop and the file inside it, never the contents of a file.
public struct DropError: Error, Sendable, Equatable, CustomStringConvertible {
    /// A stable kind of failure. New codes may be added without breaking callers.
    public struct Code: Sendable, Hashable, RawRepresentable, CustomStringConvertible {
        public let rawValue: String
        public init(rawValue: String) { self.rawValue = rawValue }
        public var description: String { rawValue }

        /// The path is neither a folder nor a zip file.
        public static let notADrop = Code(rawValue: "not-a-drop")
        /// The path or a file in the drop cannot be opened or read (missing, permissions, I/O).
        public static let unreadable = Code(rawValue: "unreadable")
        /// The drop has no file of that name.
        public static let missingFile = Code(rawValue: "missing-file")
        /// The zip is truncated or damaged, or its structure does not add up.
        public static let corruptArchive = Code(rawValue: "corrupt-archive")
        /// An entry uses something Steward does not read: encryption, or a compression other than
        /// stored or deflate, or the archive is split across several files.
        public static let unsupported = Code(rawValue: "unsupported")
        /// An entry's name is absolute or climbs out of the archive with `..`.
        public static let unsafeName = Code(rawValue: "unsafe-name")
        /// An entry's data does not match its CRC-32.
        public static let checksumMismatch = Code(rawValue: "checksum-mismatch")
        /// An entry inflates to another size than the zip declares (a zip-bomb guard).
        public static let sizeMismatch = Code(rawValue: "size-mismatch")
    }

    public var code: Code
    /// The drop's path, as given.
    public var location: String
    /// The file inside the drop that the error concerns, if it concerns one.
    public var file: String?
    /// What happened and what to do about it. It names `file` itself, so it reads on its own.
    public var message: String

    public init(_ code: Code, location: String, file: String? = nil, _ message: String) {
        self.code = code
        self.location = location
        self.file = file
        self.message = message
    }

    public var description: String { "\(location): \(message)" }
}

/// Opens the drop at `path`: a folder is a ``FolderDrop``; a file named `*.zip`, or one that
/// starts as a zip does, is a ``ZipDrop``. Anything else is refused.
public func openDrop(at path: String) throws -> any DropSource {
    var status = stat()
    guard retryingInterrupts({ Int(stat(path, &status)) }) == 0 else {
        throw DropError(.unreadable, location: path,
                        "cannot open the drop: \(String(cString: strerror(errno))); check the path and its permissions")
    }
    if status.st_mode & S_IFMT == S_IFDIR { return FolderDrop(path: path) }
    if status.st_mode & S_IFMT == S_IFREG, try path.lowercased().hasSuffix(".zip") || startsAsZip(path) {
        return try ZipDrop(path: path)
    }
    throw DropError(.notADrop, location: path,
                    "this is neither a folder nor a .zip file; give the folder of CSV files or the zip that the SIS exported")
}

private func startsAsZip(_ path: String) throws -> Bool {
    let file = try ReadOnlyFile(path: path, location: path, file: nil)
    var magic: UInt32 = 0
    let count = try withUnsafeMutableBytes(of: &magic) { try file.read(into: $0, at: 0) }
    return count == 4 && UInt32(littleEndian: magic) == ZipArchive.localHeaderSignature
}

// MARK: - Folder

/// A drop that is a folder of files.
///
/// Hidden files (names starting with `.`, such as `.DS_Store`) and anything but regular files and
/// symbolic links are left out. A symbolic link is listed but not followed: reading it fails with
/// a message that says so, because a drop must not point the daemon at files outside it.
public struct FolderDrop: DropSource {
    public let location: String
    /// How deep subfolders are listed.
    static let maximumDepth = 8

    public init(path: String) {
        location = path
    }

    public func fileNames() throws -> [String] {
        var names: [String] = []
        try list("", depth: 0, into: &names)
        return names.sorted()
    }

    private func list(_ folder: String, depth: Int, into names: inout [String]) throws {
        let path = folder.isEmpty ? location : location + "/" + folder
        let children: [String]
        do {
            children = try FileManager.default.contentsOfDirectory(atPath: path)
        } catch {
            throw DropError(.unreadable, location: location, file: folder.isEmpty ? nil : folder,
                            "cannot list the folder \(folder.isEmpty ? "" : folder + " ")(\(error.localizedDescription)); check its permissions")
        }
        for child in children where !child.hasPrefix(".") {
            let name = folder.isEmpty ? child : folder + "/" + child
            var status = stat()
            guard retryingInterrupts({ Int(lstat(location + "/" + name, &status)) }) == 0 else { continue }
            switch status.st_mode & S_IFMT {
            case S_IFREG, S_IFLNK: names.append(name)
            case S_IFDIR where depth < Self.maximumDepth: try list(name, depth: depth + 1, into: &names)
            default: continue
            }
        }
    }

    public func read(_ name: String, _ chunk: (UnsafeRawBufferPointer) throws -> Void) throws {
        guard try fileNames().contains(name) else {
            throw DropError(.missingFile, location: location, file: name, "\(name): no such file in the drop")
        }
        let file = try ReadOnlyFile(path: location + "/" + name, location: location, file: name)
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: dropChunkSize, alignment: 16)
        defer { buffer.deallocate() }
        var offset: UInt64 = 0
        while true {
            let count = try file.read(into: buffer, at: offset)
            if count == 0 { return }
            try chunk(UnsafeRawBufferPointer(rebasing: buffer[..<count]))
            offset += UInt64(count)
        }
    }
}

// MARK: - Zip

/// A drop that is a zip file. Entries are read in place, inflated as they stream.
///
/// When every file sits in one top folder (as when a folder `export-2024/` is zipped), that folder
/// is left out of the names, so `export-2024/users.csv` reads as `users.csv`. Folders, hidden files
/// and macOS's `__MACOSX/` metadata are not listed; a `\` in a name counts as a folder separator.
public struct ZipDrop: DropSource {
    public let location: String
    private let archive: ZipArchive
    /// Each listed name and the entry it reads.
    private let files: [String: ZipArchive.Entry]

    public init(path: String) throws {
        location = path
        archive = try ZipArchive(path: path)
        files = Self.listedFiles(archive.entries)
    }

    private static func listedFiles(_ entries: [ZipArchive.Entry]) -> [String: ZipArchive.Entry] {
        let listed = entries.map { (path(of: $0), $0) }.filter { path, _ in
            !path.hasSuffix("/") && !path.split(separator: "/").contains { $0.hasPrefix(".") || $0 == "__MACOSX" }
        }
        let topFolders = Set(listed.map { path, _ in path.split(separator: "/", maxSplits: 1).first.map(String.init) ?? "" })
        let stripsTopFolder = topFolders.count == 1 && listed.allSatisfy { path, _ in path.contains("/") }
        var files: [String: ZipArchive.Entry] = [:]
        for (path, entry) in listed {
            files[stripsTopFolder ? String(path.split(separator: "/", maxSplits: 1)[1]) : path] = entry
        }
        return files
    }

    /// The entry's name with `/` between folders: some Windows tools write `\`.
    private static func path(of entry: ZipArchive.Entry) -> String {
        entry.name.replacingOccurrences(of: "\\", with: "/")
    }

    public func fileNames() throws -> [String] {
        files.keys.sorted()
    }

    public func read(_ name: String, _ chunk: (UnsafeRawBufferPointer) throws -> Void) throws {
        guard let entry = files[name] else {
            throw DropError(.missingFile, location: location, file: name, "\(name): no such file in the zip")
        }
        try archive.read(entry, chunkSize: dropChunkSize, chunk)
    }
}

// MARK: - Reading files

/// How much of a file is handed over at a time.
let dropChunkSize = 256 << 10

/// A file open for reading at explicit offsets (`pread`), so one open file can serve several
/// readers at once. Closed when the last reference goes.
final class ReadOnlyFile: Sendable {
    let descriptor: Int32
    let size: UInt64
    /// For errors: the drop and the file inside it.
    let location: String
    let file: String?

    /// Opens `path` without following a symbolic link at its end, and without blocking on a
    /// FIFO; only regular files are accepted.
    init(path: String, location: String, file: String?) throws(DropError) {
        self.location = location
        self.file = file
        let opened = retryingInterrupts { Int(open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK)) }
        guard opened >= 0 else {
            let name = file ?? (path as NSString).lastPathComponent
            if errno == ELOOP {
                throw DropError(.unreadable, location: location, file: file,
                                "\(name) is a symbolic link; Steward reads only the drop's own files: copy the file into the drop")
            }
            throw DropError(.unreadable, location: location, file: file,
                            "cannot open \(name): \(String(cString: strerror(errno))); check that it exists and that Steward may read it")
        }
        descriptor = Int32(opened)
        var status = stat()
        guard fstat(descriptor, &status) == 0, status.st_mode & S_IFMT == S_IFREG else {
            close(descriptor)
            throw DropError(.unreadable, location: location, file: file, "\(file ?? path) is not a regular file")
        }
        size = UInt64(status.st_size)
    }

    deinit {
        close(descriptor)
    }

    /// Reads into `buffer` from `offset`; returns how many bytes were read, fewer than asked only
    /// at the end of the file.
    func read(into buffer: UnsafeMutableRawBufferPointer, at offset: UInt64) throws(DropError) -> Int {
        var done = 0
        while done < buffer.count {
            let count = retryingInterrupts {
                pread(descriptor, buffer.baseAddress! + done, buffer.count - done, off_t(offset) + off_t(done))
            }
            guard count >= 0 else {
                throw DropError(.unreadable, location: location, file: file,
                                "reading \(file ?? "the drop") failed: \(String(cString: strerror(errno))); check the disk")
            }
            if count == 0 { break }
            done += count
        }
        return done
    }
}
