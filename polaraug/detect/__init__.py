"""Detector retraining stage: does generated polarimetric data improve a YOLO detector?"""
