"""``python -m tbs_doccheck``: the same command line as ``tbs-doccheck``."""

from tbs_doccheck.cli.app import main

if __name__ == "__main__":
    main()
