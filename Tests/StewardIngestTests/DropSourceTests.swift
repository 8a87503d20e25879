import Foundation
import StewardIngest
import Testing

@Suite struct DropSourceTests {
    let scratch: DropScratchFolder
    init() throws { scratch = try DropScratchFolder() }

    private func folderDrop() throws -> String {
        let folder = scratch.path + "/export"
        try scratch.write("export/manifest.csv", Array("propertyName,value\n".utf8))
        try scratch.write("export/users.csv", Array("sourcedId\n".utf8))
        try scratch.write("export/.DS_Store", [0])
        try scratch.write("export/docs/readme.txt", Array("hello".utf8))
        return folder
    }

    @Test func aFolderListsItsFilesSortedWithSubfoldersAndWithoutHiddenFiles() throws {
        let drop = try openDrop(at: folderDrop())
        #expect(drop is FolderDrop)
        #expect(try drop.fileNames() == ["docs/readme.txt", "manifest.csv", "users.csv"])
        #expect(try readDropText(drop, "users.csv") == "sourcedId\n")
        #expect(try readDropText(drop, "docs/readme.txt") == "hello")
    }

    @Test func aFolderFileIsReadInBoundedChunks() throws {
        let bytes = (0..<1_000_000).map { UInt8(truncatingIfNeeded: $0 &* 31) }
        try scratch.write("export/users.csv", bytes)
        let read = try readDropFile(openDrop(at: scratch.path + "/export"), "users.csv")
        #expect(read.bytes.elementsEqual(bytes))
        #expect(read.chunks.count > 1 && read.chunks.allSatisfy { $0 <= 256 << 10 })
    }

    @Test func onlyListedFilesCanBeRead() throws {
        let drop = try openDrop(at: folderDrop())
        for name in ["orgs.csv", "../export/users.csv", ".DS_Store", "/etc/passwd", "docs"] {
            let error = dropError { _ = try readDropFile(drop, name) }
            #expect(error?.code == .missingFile, "\(name)")
            #expect(error?.file == name)
        }
    }

    @Test func aSymbolicLinkIsListedButNotFollowed() throws {
        let folder = try folderDrop()
        try FileManager.default.createSymbolicLink(atPath: folder + "/orgs.csv", withDestinationPath: folder + "/users.csv")
        let drop = try openDrop(at: folder)
        #expect(try drop.fileNames().contains("orgs.csv"))
        let error = dropError { _ = try readDropFile(drop, "orgs.csv") }
        #expect(error?.code == .unreadable)
        #expect(error?.message.contains("symbolic link") == true)
    }

    @Test func aZipIsRecognizedByItsContentsWhateverItsName() throws {
        let path = try scratch.zip("z.writestr('users.csv', 'a')", named: "export.bin")
        let drop = try openDrop(at: path)
        #expect(drop is ZipDrop)
        #expect(try readDropText(drop, "users.csv") == "a")
    }

    @Test func anythingElseIsRefusedWithWhatToDo() throws {
        let csv = try scratch.write("users.csv", Array("sourcedId\n".utf8))
        let notADrop = dropError { _ = try openDrop(at: csv) }
        #expect(notADrop?.code == .notADrop)
        #expect(notADrop?.location == csv)
        #expect(notADrop?.message.contains("folder") == true)

        let missing = dropError { _ = try openDrop(at: scratch.path + "/nowhere") }
        #expect(missing?.code == .unreadable)
        #expect(missing?.description.hasPrefix(scratch.path + "/nowhere: ") == true)
    }
}
