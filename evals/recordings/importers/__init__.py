"""Importers: public incident datasets turned into recordings, one per labelled fault (`medic import`).

Each importer reads its dataset's layout as published, whatever days, scenarios and splits the source
folder holds, and writes one recording folder per labelled fault: the label becomes `expect`, the
alert (or, when no alerting rule would have fired, a question) is derived from the data by a rule the
importer documents, and nothing later than the alert's time is written.
"""
