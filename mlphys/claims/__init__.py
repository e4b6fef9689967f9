"""Headline claims of each chapter, one module per chapter id (see :mod:`mlphys.registry`)."""
