#if canImport(Glibc)
import Glibc
#endif
import CZlib

/// Streams one entry's data out of a ``ZipArchive``: copies a stored entry, or inflates a deflated
/// one with zlib, handing over a chunk at a time and keeping the CRC-32 of what it handed over.
/// Its buffers are the same size whatever the entry's size.
struct ZipEntryReader {
    let file: ReadOnlyFile
    let entry: ZipArchive.Entry
    /// Where the entry's data starts in the file.
    let start: UInt64
    let chunkSize: Int
    /// How much compressed input is read from the file at a time.
    static let inputSize = 64 << 10

    /// Copies a stored entry; returns the CRC-32 of its bytes.
    func copyStored(_ chunk: (UnsafeRawBufferPointer) throws -> Void) throws -> UInt32 {
        guard entry.compressedSize == entry.size else {
            throw failure(.corruptArchive, "is stored uncompressed, but its two sizes differ; the zip is damaged: copy it again")
        }
        let buffer = UnsafeMutableBufferPointer<UInt8>.allocate(capacity: chunkSize)
        defer { buffer.deallocate() }
        var checksum = CZlib.crc32(0, nil, 0)
        var done: UInt64 = 0
        while done < entry.size {
            let wanted = Int(min(UInt64(chunkSize), entry.size - done))
            let part = UnsafeMutableBufferPointer(rebasing: buffer[..<wanted])
            guard try file.read(into: UnsafeMutableRawBufferPointer(part), at: start + done) == wanted else { throw truncated() }
            checksum = update(checksum, UnsafeBufferPointer(part))
            try chunk(UnsafeRawBufferPointer(part))
            done += UInt64(wanted)
        }
        return UInt32(truncatingIfNeeded: checksum)
    }

    /// Inflates a deflated entry (raw deflate, no zlib header); returns the CRC-32 of the output.
    func inflate(_ chunk: (UnsafeRawBufferPointer) throws -> Void) throws -> UInt32 {
        // zlib keeps a pointer back to its stream, so the stream needs an address that stays put.
        let stream = UnsafeMutablePointer<z_stream>.allocate(capacity: 1)
        stream.initialize(to: z_stream())
        guard steward_inflate_init2(stream, -MAX_WBITS) == Z_OK else {
            stream.deallocate()
            throw failure(.unreadable, "cannot be inflated: zlib could not start (out of memory?); try again")
        }
        let input = UnsafeMutableBufferPointer<Bytef>.allocate(capacity: Self.inputSize)
        let output = UnsafeMutableBufferPointer<Bytef>.allocate(capacity: chunkSize)
        defer {
            inflateEnd(stream)
            stream.deallocate()
            input.deallocate()
            output.deallocate()
        }
        var checksum = CZlib.crc32(0, nil, 0)
        var consumed: UInt64 = 0
        var produced: UInt64 = 0
        while true {
            if stream.pointee.avail_in == 0 && consumed < entry.compressedSize {
                let wanted = Int(min(UInt64(Self.inputSize), entry.compressedSize - consumed))
                let part = UnsafeMutableBufferPointer(rebasing: input[..<wanted])
                guard try file.read(into: UnsafeMutableRawBufferPointer(part), at: start + consumed) == wanted else { throw truncated() }
                consumed += UInt64(wanted)
                stream.pointee.next_in = part.baseAddress
                stream.pointee.avail_in = uInt(wanted)
            }
            stream.pointee.next_out = output.baseAddress
            stream.pointee.avail_out = uInt(chunkSize)
            let status = CZlib.inflate(stream, Z_NO_FLUSH)
            let count = chunkSize - Int(stream.pointee.avail_out)
            if count > 0 {
                produced += UInt64(count)
                guard produced <= entry.size else {
                    throw failure(.sizeMismatch, "inflates to more than the \(entry.size) bytes the zip declares for it; Steward stops there (a guard against zip bombs): zip the drop again")
                }
                let part = UnsafeBufferPointer(rebasing: output[..<count])
                checksum = update(checksum, part)
                try chunk(UnsafeRawBufferPointer(part))
            }
            switch status {
            case Z_STREAM_END:
                guard produced == entry.size else {
                    throw failure(.sizeMismatch, "inflates to \(produced) bytes, not the \(entry.size) the zip declares; the zip is damaged: copy it again")
                }
                return UInt32(truncatingIfNeeded: checksum)
            case Z_OK, Z_BUF_ERROR:
                // No progress possible and nothing more to read: the compressed data stops early.
                if count == 0 && stream.pointee.avail_in == 0 && consumed == entry.compressedSize { throw truncated() }
            default:
                throw failure(.corruptArchive, "holds damaged compressed data (zlib error \(status)); the zip is damaged: copy it again")
            }
        }
    }

    private func update(_ checksum: uLong, _ bytes: UnsafeBufferPointer<Bytef>) -> uLong {
        CZlib.crc32(checksum, bytes.baseAddress, uInt(bytes.count))
    }

    private func failure(_ code: DropError.Code, _ message: String) -> DropError {
        DropError(code, location: file.location, file: entry.name, "\(entry.name) " + message)
    }

    private func truncated() -> DropError {
        failure(.corruptArchive, "ends before its data does; the zip is truncated or damaged: copy it again")
    }
}
