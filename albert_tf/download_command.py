"""`albert-tf download HANDLE`: fills the cache and prints where the files are.

Prints the local directory on stdout (so `DIR=$(albert-tf download ...)`
works in scripts) and the detected checkpoint format on stderr.
"""

import sys

from albert_tf import handles


def add_arguments(parser):
    parser.add_argument("handle", metavar="HANDLE",
                        help="hf://owner/name[@revision], kaggle://owner/model/framework/variation[/version], "
                             "a TF Hub or release-tarball URL, or a local directory or archive")
    parser.add_argument("--cache-dir", default=None,
                        help="where URL downloads and archives are extracted (default: $ALBERT_TF_CACHE, "
                             "else $XDG_CACHE_HOME/albert_tf, else ~/.cache/albert_tf); hf:// and kaggle:// "
                             "handles use their libraries' caches")
    parser.add_argument("--sha256", default=None,
                        help="expected sha256 of the downloaded archive; a mismatch fails and caches nothing")


def run(args):
    path = handles.resolve(args.handle, cache_dir=args.cache_dir, sha256=args.sha256)
    checkpoint_format = handles.detect_format(path)
    print(path)
    print(f"albert-tf download: {args.handle} -> {path} (format: {checkpoint_format})", file=sys.stderr)
