"""Django format modules for the clinic (``FORMAT_MODULE_PATH``): see ``en_GB/formats.py``."""
