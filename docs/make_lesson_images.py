"""Run every lesson in full into docs/images (the figures of docs/lessons.md) and print the
numbers the page quotes: python docs/make_lesson_images.py [N ...]"""

import sys
from pathlib import Path

from tinygrad_edu.lessons import LESSONS

IMAGES = Path(__file__).with_name("images")

if __name__ == "__main__":
    for number in [int(n) for n in sys.argv[1:]] or LESSONS:
        LESSONS[number][1](fast=False, out=IMAGES, seed=0)
