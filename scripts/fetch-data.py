#!/usr/bin/env python3
"""Fetch the example data sets that cannot travel with the repository.

Usage (from anywhere; files land under examples/data/NAME/ of this repository):

    python3 scripts/fetch-data.py deepbind              # download (needs the internet)
    python3 scripts/fetch-data.py deepbind --from DIR   # copy from a folder holding the files
                                                        # (or the downloaded archive) instead
    python3 scripts/fetch-data.py --list                # what can be fetched, and from where

Every file is checked against the SHA-256 recorded below before it is put in place; a file that
differs is refused and nothing is written. Files are written under a temporary name and renamed,
so an interrupted fetch never leaves a half-written file. Standard library only.
"""
import argparse
import hashlib
import os
import shutil
import sys
import tempfile
import urllib.request
import zipfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

DATASETS = {
    "deepbind": {
        "what": "DeepBind ENCODE ChIP-seq peaks (Alipanahi et al., Nat Biotechnol 33:831, 2015): "
        "GABPA and SP1 (GM12878), ARID3A (K562); 101-bp sequences centred on peaks (hg19)",
        "why_not_shipped": "the DeepBind supplementary data states no license, so it is not "
        "redistributed here",
        "url": "http://tools.genes.toronto.edu/deepbind/nbtcode/nbt3300-supplementary-software.zip",
        "member_prefix": "nbt3300-code/data/encode/",
        "files": {
            "ARID3A_K562_AC.seq.gz": "928d75f354dbadbb4f083cb298e85df6fa11f001afacd9d577c0d9c9ce831712",
            "ARID3A_K562_B.seq.gz": "aad6ee8ac42ea66791897a447ad01252f26955d2dd8b5a7865f2c233db807c09",
            "GABPA_GM12878_AC.seq.gz": "627505bae74920366a5b9b5125e7972b073f611f0bdb258c9d32b9c33bb7529b",
            "GABPA_GM12878_B.seq.gz": "b3f4da33cd690a3d72bb0033e3d4b5e9eec25405669fd521938b3c7e50ffbe15",
            "SP1_GM12878_AC.seq.gz": "131c5c30e277ea7e283b374fd78c362ab6fd7f9b1222322df33cf8f048254cbe",
            "SP1_GM12878_B.seq.gz": "8ef012ed4a8818ebcb0c46f126b0523825170e6d6f2af9f876b6beb4a7f36594",
        },
    },
}


class FetchError(Exception):
    pass


def sha256(data):
    return hashlib.sha256(data).hexdigest()


def place(name, data, target):
    """Write one checked file to target/name through a temporary name."""
    os.makedirs(target, exist_ok=True)
    handle, temporary = tempfile.mkstemp(prefix=f".{name}.", suffix=".partial", dir=target)
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(data)
        os.replace(temporary, os.path.join(target, name))
    except BaseException:
        if os.path.exists(temporary):
            os.remove(temporary)
        raise


def from_archive(dataset, archive):
    """The dataset's files out of a zip archive, by their base name."""
    found = {}
    try:
        with zipfile.ZipFile(archive) as zipped:
            for member in zipped.namelist():
                base = member.rsplit("/", 1)[-1]
                if base in dataset["files"] and member.endswith(dataset["member_prefix"] + base):
                    found[base] = zipped.read(member)
    except zipfile.BadZipFile as error:
        raise FetchError(f"{archive}: not a zip archive ({error})") from error
    missing = sorted(set(dataset["files"]) - set(found))
    if missing:
        raise FetchError(
            f"{archive}: has no {', '.join(missing)} under {dataset['member_prefix']}")
    return found


def from_folder(dataset, folder):
    found, missing = {}, []
    for name in dataset["files"]:
        path = os.path.join(folder, name)
        if os.path.isfile(path):
            with open(path, "rb") as handle:
                found[name] = handle.read()
        else:
            missing.append(name)
    if missing:
        raise FetchError(f"{folder}: has no {', '.join(missing)}")
    return found


def download(dataset):
    url = dataset["url"]
    print(f"downloading {url} (needs the internet) ...", file=sys.stderr)
    with tempfile.TemporaryDirectory() as scratch:
        archive = os.path.join(scratch, "archive.zip")
        try:
            with urllib.request.urlopen(url, timeout=60) as response, open(archive, "wb") as out:
                shutil.copyfileobj(response, out)
        except OSError as error:
            raise FetchError(f"could not download {url}: {error}") from error
        return from_archive(dataset, archive)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("name", nargs="?", help="data set to fetch: " + ", ".join(DATASETS))
    parser.add_argument("--from", dest="source", metavar="DIR_OR_ZIP",
                        help="a folder holding the files, or the downloaded archive")
    parser.add_argument("--list", action="store_true", help="list the data sets and exit")
    args = parser.parse_args()
    if args.list or not args.name:
        for name, dataset in DATASETS.items():
            print(f"{name}: {dataset['what']}\n  from {dataset['url']}\n  "
                  f"not in the repository because {dataset['why_not_shipped']}")
        return 0 if args.list else 2
    dataset = DATASETS.get(args.name)
    if dataset is None:
        print(f"error: no data set named {args.name!r}; known: {', '.join(DATASETS)}",
              file=sys.stderr)
        return 2
    target = os.path.join(ROOT, "examples", "data", args.name)
    try:
        if args.source is None:
            files = download(dataset)
        elif os.path.isdir(args.source):
            files = from_folder(dataset, args.source)
        elif os.path.isfile(args.source):
            files = from_archive(dataset, args.source)
        else:
            raise FetchError(f"{args.source}: no such file or folder")
        # Check every file before writing any.
        for name, data in files.items():
            got = sha256(data)
            if got != dataset["files"][name]:
                raise FetchError(
                    f"{name}: SHA-256 {got} differs from the recorded {dataset['files'][name]}; "
                    "the source holds a different file, so nothing was written")
        for name in sorted(files):
            place(name, files[name], target)
    except FetchError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    print(f"{args.name}: {len(files)} files checked (SHA-256) and written to "
          f"{os.path.relpath(target)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
