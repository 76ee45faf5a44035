"""The console: web pages for the people in the loop, served at /console/."""
